"""Wall time of the ``cw`` command, as an agent's shell sees it: fork, exec, import,
one request, exit. ``cw answer`` gets a fresh pending conversation on every run."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable

from bench.loadgen import Connection, run_async
from bench.report import Column, Section, Target
from bench.server import CW, BenchAgent, BenchServer, cw_env
from bench.settings import Settings

RUN_TIMEOUT_S = 30.0
TARGET_MEDIAN_MS = 60.0


def _ask(port: int, asker: BenchAgent, answerer: BenchAgent) -> str:
    async def ask() -> str:
        connection = await Connection.open(port, asker.token)
        try:
            asked = await connection.mutation(
                "conversation.ask",
                {"fromAgentId": asker.id, "toAgentId": answerer.id, "question": "cli?"},
            )
        finally:
            await connection.close()
        return str(asked["id"])

    conversation_id: str = run_async(ask)
    return conversation_id


def _time_runs(
    runs: int, env: dict[str, str], make_args: Callable[[], list[str]]
) -> tuple[list[float], str]:
    """Wall times in ms of ``runs`` timed runs after one untimed warm-up run."""
    times: list[float] = []
    for n in range(runs + 1):
        args = make_args()
        started = time.perf_counter()
        done = subprocess.run(
            [CW, *args], env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
        )
        elapsed = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            return times, f"cw {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}"
        if n:
            times.append(elapsed)
    return times, ""


def run(settings: Settings) -> Section:
    section = Section(
        "cli",
        "CLI wall time (process start to exit)",
        [
            Column("command", "command"),
            Column("median_ms", "median ms", 1),
            Column("min_ms", "min ms", 1),
            Column("max_ms", "max ms", 1),
            Column("runs", "runs"),
        ],
    )
    runs = settings.count(20, 5)
    home = settings.workdir("cli")
    with BenchServer(home) as server:
        asker, answerer = server.create_agents(2)
        as_answerer = cw_env(home, server.url, CW_TOKEN=answerer.token, CW_AGENT_ID=answerer.id)
        # Bytecode as after `pip install`: cached (here in a private prefix, so neither the
        # source tree nor the caller's PYTHONDONTWRITEBYTECODE decides what is measured).
        # The warm-up run fills the cache.
        cached = {**as_answerer, "PYTHONPYCACHEPREFIX": str(home / "bytecode")}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        inspected = _ask(server.port, asker, answerer)
        commands: list[tuple[str, Callable[[], list[str]]]] = [
            ("cw --version", lambda: ["--version"]),
            ("cw conversation get ID", lambda: ["conversation", "get", "--", inspected]),
            (
                "cw answer ID TEXT",
                lambda: ["answer", "--", _ask(server.port, asker, answerer), "from the shell"],
            ),
        ]
        for label, make_args in commands:
            times, error = _time_runs(runs, cached, make_args)
            if error:
                section.errors.append(error)
            section.rows.append(
                {
                    "command": label,
                    "median_ms": statistics.median(times) if times else float("nan"),
                    "min_ms": min(times, default=float("nan")),
                    "max_ms": max(times, default=float("nan")),
                    "runs": len(times),
                }
            )
            section.targets.append(
                Target(
                    f"{label}: median wall time",
                    section.rows[-1]["median_ms"],
                    TARGET_MEDIAN_MS,
                    "ms",
                    higher_is_better=False,
                )
            )
    section.notes += [
        f"{runs} timed runs per command after one untimed warm-up run; wall time measured "
        "around subprocess.run (fork + exec + imports + request + exit). `cw answer` answers a "
        "fresh pending conversation each run (asked beforehand, not timed).",
        "Bytecode is cached as after an install (in a private PYTHONPYCACHEPREFIX, filled by "
        "the warm-up run). Without any cache (PYTHONDONTWRITEBYTECODE=1, no __pycache__ in "
        "src/) each run also compiles the CLI's modules: about 8-10 ms more.",
    ]
    return section
