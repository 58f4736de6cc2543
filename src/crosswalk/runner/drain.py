"""Following every running agent's output at once.

One tick every ``interval_s`` polls each followed process, reads what each wrote since
the last tick (every file in one worker-thread hop) and stores it all with one call of
``store`` (one database write). A fleet of busy agents so costs one thread hop and one
write per tick, not one of each per agent per tick; the tick runs only while some run
is followed.

``follow(run)`` returns once the run's process has ended and everything it wrote is
stored. It raises ``ForeignFileError`` when the run's output file is not the runner's
own (nothing of it is read). A failed store is logged and tried again at the next tick
with the same output (the offsets move only once it is stored), so one bad write loses
no line and ends no run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crosswalk.runner.output import ForeignFileError, read_complete_lines
from crosswalk.runner.ports import Processes, ProcessExit, ProcessHandle
from crosswalk.runner.providers import StreamReader

logger = logging.getLogger("crosswalk.runner")


class Followed(Protocol):
    """A run as the drain sees it: its process, its output file and how far it is read,
    and the reader its lines are fed to."""

    handle: ProcessHandle
    output: Path
    offset: int
    reader: StreamReader


@dataclass(frozen=True, slots=True)
class Drained:
    """Whole lines a run wrote, and where its file is read from once they are stored."""

    run: Followed
    text: str
    offset: int


Store = Callable[[list[Drained]], Awaitable[None]]
_Read = list[tuple[str, int]] | ForeignFileError


class OutputDrain:
    def __init__(self, processes: Processes, store: Store, interval_s: float) -> None:
        self._processes = processes
        self._store = store
        self._interval_s = interval_s
        #: By ``id(run)``: runs are mutable dataclasses, not hashable.
        self._followed: dict[int, tuple[Followed, asyncio.Future[ProcessExit]]] = {}
        self._ticks: asyncio.Task[None] | None = None

    async def follow(self, run: Followed) -> ProcessExit:
        """How the run's process ended, once all it wrote is stored."""
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[ProcessExit] = loop.create_future()
        self._followed[id(run)] = (run, ended)
        if self._ticks is None or self._ticks.done():
            self._ticks = loop.create_task(self._tick_while_following(), name="log drain")
        try:
            return await ended
        finally:
            if self._followed.get(id(run), (None, None))[1] is ended:
                del self._followed[id(run)]

    async def close(self) -> None:
        """Stop ticking (the server stops; the runs' own tasks are cancelled apart)."""
        if self._ticks is not None:
            self._ticks.cancel()
            await asyncio.gather(self._ticks, return_exceptions=True)

    async def _tick_while_following(self) -> None:
        while self._followed:
            try:
                await self.tick()
            except Exception:
                logger.exception("reading the agents' output failed")
            await asyncio.sleep(self._interval_s)

    async def tick(self) -> None:
        """Poll, read and store once for every followed run."""
        followed = list(self._followed.values())
        exits = [self._processes.poll(run.handle) for run, _ in followed]
        requests = [
            (run.output, run.offset, exit is not None)
            for (run, _), exit in zip(followed, exits, strict=True)
        ]
        reads = await asyncio.to_thread(_read_all, requests)
        drained: list[Drained] = []
        for (run, ended), read in zip(followed, reads, strict=True):
            if isinstance(read, ForeignFileError):
                if not ended.done():
                    ended.set_exception(read)
                continue
            for text, offset in read:
                _feed(run, text)
                drained.append(Drained(run, text, offset))
        if drained:
            await self._store(drained)
            for done in drained:
                done.run.offset = done.offset
        for (_, ended), exit in zip(followed, exits, strict=True):
            if exit is not None and not ended.done():
                ended.set_result(exit)


def _feed(run: Followed, text: str) -> None:
    """The run's reader reads each line; a line it cannot read is stored all the same,
    and holds up neither this run's output nor another's."""
    for line in text.splitlines():
        try:
            run.reader.feed(line)
        except Exception:
            logger.exception("reading a line of an agent's output failed; it is stored as is")


def _read_all(requests: list[tuple[Path, int, bool]]) -> list[_Read]:
    """For each ``(output, offset, final)``: its whole new lines in reads of at most
    ``MAX_READ_BYTES`` (one chunk each) with the offset after each, or the refusal."""
    return [_read_one(*request) for request in requests]


def _read_one(output: Path, offset: int, final: bool) -> _Read:
    pieces: list[tuple[str, int]] = []
    try:
        while True:
            text, offset = read_complete_lines(output, offset, final)
            if not text:
                return pieces
            pieces.append((text, offset))
    except ForeignFileError as exc:
        return exc
