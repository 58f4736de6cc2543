"""The load generator's own ceiling, on ``health`` (public, no database, no auth).

Shows the reader that the generator is not what limits the other benchmarks: the
requests per second it drives, and the CPU it spends per request, next to the
server's CPU. ``client req/s per core`` = requests completed / generator CPU seconds:
what one core of load generation can issue, which the conversation benchmark needs
only a fraction of (four requests per conversation).
"""

from __future__ import annotations

import asyncio
import time

from bench.loadgen import (
    Connection,
    Window,
    WorkerResult,
    measure_cpu,
    rate_row,
    run_workers,
    split,
)
from bench.report import Column, Section
from bench.server import BenchServer
from bench.settings import Settings

# (load-generator processes, connections in all)
LEVELS = ((1, 1), (1, 16), (1, 64), (2, 64))
QUICK_LEVELS = ((1, 1), (1, 16))


async def drive_health(
    port: int, connections: int, window: Window, server_pid: int | None
) -> WorkerResult:
    result = WorkerResult()
    opened = [await Connection.open(port) for _ in range(connections)]

    async def loop(connection: Connection) -> None:
        try:
            while not window.over:
                started = time.perf_counter_ns()
                data = await connection.query("health")
                ended = time.perf_counter_ns()
                if not (isinstance(data, dict) and data.get("ok") is True):
                    raise RuntimeError(f"unexpected health answer {data!r}")
                if window.contains(started, ended):
                    result.completed += 1
                    result.latencies_ns.append(ended - started)
        except Exception as exc:
            result.error(exc)

    try:
        await asyncio.gather(measure_cpu(window, result, server_pid), *map(loop, opened))
    finally:
        for connection in opened:
            await connection.close()
    return result


def run(settings: Settings) -> Section:
    section = Section(
        "ceiling",
        "Load generator ceiling (health, no auth, no database)",
        [
            Column("processes", "procs"),
            Column("connections", "conns"),
            Column("rate", "req/s", 0),
            Column("p50_ms", "p50 ms", 3),
            Column("p99_ms", "p99 ms", 3),
            Column("client_cpu_pct", "client CPU %", 0),
            Column("server_cpu_pct", "server CPU %", 0),
            Column("server_us_per_op", "server CPU µs/req", 0),
            Column("client_us_per_op", "client CPU µs/req", 0),
            Column("client_ceiling", "client req/s per core", 0),
        ],
    )
    warmup, duration = settings.pick(1.0, 0.3), settings.pick(3.0, 1.0)
    with BenchServer(settings.workdir("ceiling")) as server:
        for processes, connections in QUICK_LEVELS if settings.quick else LEVELS:
            window = Window.after(0.3, warmup, duration)
            shares = split(range(connections), processes)
            args = [
                (server.port, len(share), window, server.pid if i == 0 else None)
                for i, share in enumerate(shares)
            ]
            result = run_workers(drive_health, args, deadline_s=warmup + duration + 5)
            section.rows.append(
                {
                    "processes": processes,
                    "connections": connections,
                    **rate_row(result, window),
                }
            )
            if result.errors:
                section.errors.append(f"health x{connections}: {result.first_error}")
    section.notes.append(
        "CPU % is of one core, measured from /proc over the window; the machine has "
        "2 cores shared by server and generator."
    )
    return section
