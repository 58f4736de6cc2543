"""The log drain: one tick reads every followed run's output file and stores all of it with
one call; a failed store loses nothing; a foreign output file ends only its own run."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.runner.fakes import FakeProcess, FakeProcesses

from crosswalk.domain.timestamps import utcnow
from crosswalk.runner.drain import Drained, OutputDrain
from crosswalk.runner.output import ForeignFileError
from crosswalk.runner.ports import LaunchSpec, ProcessHandle
from crosswalk.runner.providers import StreamReader, default_providers

INTERVAL_S = 0.01


@dataclass
class Run:
    handle: ProcessHandle
    output: Path
    reader: StreamReader
    offset: int = 0


@dataclass
class Store:
    """Records each call; fails the first ``failures`` calls."""

    failures: int = 0
    calls: list[list[tuple[Path, str]]] = field(default_factory=list)

    async def __call__(self, drained: list[Drained]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database is away")
        self.calls.append([(done.run.output, done.text) for done in drained])


def started(processes: FakeProcesses, directory: Path, name: str) -> tuple[Run, FakeProcess]:
    directory.mkdir(parents=True, exist_ok=True)
    output = directory / f"{name}.jsonl"
    spec = LaunchSpec(
        [], directory, {}, output, directory / f"{name}.err", directory / f"{name}.exit"
    )
    handle = processes.launch(spec)
    reader = default_providers()["claude"].reader(utcnow())
    return Run(handle, output, reader), processes.by_pid[handle.pid]


def line(n: int) -> dict[str, object]:
    return {"type": "assistant", "session_id": "s-1", "n": n}


def text_of(*numbers: int) -> str:
    return "".join(json.dumps(line(n)) + "\n" for n in numbers)


async def _test_one_tick_stores_every_runs_new_lines_with_one_call(tmp_path: Path) -> None:
    processes, store = FakeProcesses(), Store()
    drain = OutputDrain(processes, store, INTERVAL_S)
    (a, a_process), (b, b_process) = (started(processes, tmp_path, n) for n in ("a", "b"))
    a_process.write(line(1), line(2))
    b_process.write(line(3))

    following = [asyncio.create_task(drain.follow(run)) for run in (a, b)]
    while not store.calls:
        await asyncio.sleep(INTERVAL_S)
    a_process.write(line(4))
    a_process.end(0)
    b_process.end(0)
    await asyncio.wait_for(asyncio.gather(*following), 5)

    assert store.calls == [
        [(a.output, text_of(1, 2)), (b.output, text_of(3))],
        [(a.output, text_of(4))],  # nothing new from b: nothing stored for it
    ]
    assert (a.offset, b.offset) == (len(text_of(1, 2, 4)), len(text_of(3)))
    assert a.reader.outcome.session_id == "s-1"


async def _test_a_failed_store_is_tried_again_and_the_run_ends_once_all_is_stored(
    tmp_path: Path,
) -> None:
    processes, store = FakeProcesses(), Store(failures=2)
    drain = OutputDrain(processes, store, INTERVAL_S)
    run, process = started(processes, tmp_path, "a")
    process.write(line(1))
    process.end(0)

    ended = await asyncio.wait_for(drain.follow(run), 5)

    assert ended.code == 0
    assert store.calls == [[(run.output, text_of(1))]]  # once, after two failures
    assert run.offset == len(text_of(1))


async def _test_a_foreign_output_file_ends_its_run_only(tmp_path: Path) -> None:
    processes, store = FakeProcesses(), Store()
    drain = OutputDrain(processes, store, INTERVAL_S)
    (good, good_process), (bad, _) = (started(processes, tmp_path, n) for n in ("good", "bad"))
    secret = tmp_path / "secret"
    secret.write_text("not the agent's\n")
    bad.output.unlink()
    bad.output.symlink_to(secret)
    good_process.write(line(1))
    good_process.end(0)

    refused, ended = await asyncio.wait_for(
        asyncio.gather(drain.follow(bad), drain.follow(good), return_exceptions=True), 5
    )

    assert isinstance(refused, ForeignFileError)
    assert not isinstance(ended, BaseException) and ended.code == 0
    assert store.calls == [[(good.output, text_of(1))]]


def test_one_tick_stores_every_runs_new_lines_with_one_call(tmp_path: Path) -> None:
    asyncio.run(_test_one_tick_stores_every_runs_new_lines_with_one_call(tmp_path))


def test_a_failed_store_is_tried_again_and_the_run_ends_once_all_is_stored(tmp_path: Path) -> None:
    asyncio.run(_test_a_failed_store_is_tried_again_and_the_run_ends_once_all_is_stored(tmp_path))


def test_a_foreign_output_file_ends_its_run_only(tmp_path: Path) -> None:
    asyncio.run(_test_a_foreign_output_file_ends_its_run_only(tmp_path))
