"""Several servers on one PostgreSQL: conversations/s with 1, 2 and 4 ``cw serve`` processes
of one deployment, behind a round-robin client.

The client opens each agent's connection to the next server in turn (a balancer that
spreads connections, not requests), so with two servers or more an asker and its
answerer sit on different servers and every question and answer crosses between them
through PostgreSQL (its NOTIFY wakes the other server's long poll). The pairs and
the cycle are :mod:`bench.conversations`'s, by agent id. Every server's CPU and
PostgreSQL's (the server process and its backends) are read from ``/proc``; the
machine's core count is printed beside them, since N servers cannot carry N times
more on fewer than N free cores.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bench import conversations
from bench.loadgen import Window, cpu_seconds, rate_row, run_workers, split
from bench.report import Column, Section, Target
from bench.server import BenchServer
from bench.settings import Settings

LEVELS = (1, 2, 4)
QUICK_LEVELS = (1, 2)
PAIRS = 20
QUICK_PAIRS = 4
KIND = "agent-id"
#: More than one server carries more than one: conv/s at the most servers / at one.
TARGET_SCALE = 1.0


def family_cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and its direct children (PostgreSQL: the postmaster and its
    backends); a child that ended in between is not counted."""
    total = cpu_seconds(pid)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # state, then the parent
            total += cpu_seconds(int(entry.name))
    return total


class CpuDuring(threading.Thread):
    """The CPU seconds of some processes inside a window, sampled from a thread (the load
    generator runs the window in this process)."""

    def __init__(self, window: Window, pids: list[int], postgres: int | None) -> None:
        super().__init__(daemon=True)
        self.window, self.pids, self.postgres = window, pids, postgres
        self.servers_s = 0.0
        self.postgres_s = 0.0
        self.start()

    def _sample(self) -> tuple[float, float]:
        servers = sum(map(cpu_seconds, self.pids))
        return servers, family_cpu_seconds(self.postgres) if self.postgres else 0.0

    def run(self) -> None:
        time.sleep(max(0.0, (self.window.start_ns - time.perf_counter_ns()) / 1e9))
        servers, postgres = self._sample()
        time.sleep(max(0.0, (self.window.end_ns - time.perf_counter_ns()) / 1e9))
        after = self._sample()
        self.servers_s, self.postgres_s = after[0] - servers, after[1] - postgres


def run(settings: Settings) -> Section:
    section = Section(
        "servers",
        "Several servers on one PostgreSQL, round-robin client",
        [
            Column("servers", "servers"),
            Column("cores", "machine cores"),
            Column("pairs", "pairs"),
            Column("rate", "conversations/s", 0),
            Column("vs_one", "vs 1 server", 2),
            Column("p50_ms", "p50 ms", 2),
            Column("p99_ms", "p99 ms", 2),
            Column("servers_cpu_pct", "servers CPU % (sum)", 0),
            Column("postgres_cpu_pct", "PostgreSQL CPU %", 0),
            Column("client_cpu_pct", "client CPU %", 0),
            Column("errors", "errors"),
        ],
    )
    levels = QUICK_LEVELS if settings.quick else LEVELS
    pairs_count = settings.count(PAIRS, QUICK_PAIRS)
    warmup, measured = settings.pick(1.0, 0.3), settings.pick(4.0, 1.0)
    for count in levels:
        url = settings.postgres.database(f"servers{count}")
        if url is None:
            section.notes.append(f"not run: {settings.postgres.unavailable}")
            return section
        home = settings.workdir(f"servers-{count}")
        with ExitStack() as stack:
            first = stack.enter_context(BenchServer(home / "0", database_url=url))
            deployment = [first]
            for n in range(1, count):
                # One deployment, one admin token: every server gets the first one's file.
                (home / str(n)).mkdir(parents=True, exist_ok=True)
                (home / str(n) / "admin-token").write_text(first.admin_token + "\n")
                (home / str(n) / "admin-token").chmod(0o600)
                deployment.append(stack.enter_context(BenchServer(home / str(n), database_url=url)))
            pairs = conversations.make_pairs(first, pairs_count)
            ports = [server.port for server in deployment]
            window = Window.after(0.2, warmup, measured)
            cpu = CpuDuring(window, [server.pid for server in deployment], settings.postgres.pid)
            deadline = (window.end_ns - time.perf_counter_ns()) / 1e9 + 10
            args = [
                (ports, share, KIND, window, None) for share in split(pairs, settings.processes)
            ]
            result = run_workers(conversations.drive_pairs, args, deadline_s=deadline)
            cpu.join()
        measured_row = rate_row(result, window)
        row = {
            "servers": count,
            "cores": os.cpu_count(),
            "pairs": pairs_count,
            **{key: measured_row[key] for key in ("rate", "p50_ms", "p99_ms", "client_cpu_pct")},
            "servers_cpu_pct": 100 * cpu.servers_s / window.seconds,
            "postgres_cpu_pct": 100 * cpu.postgres_s / window.seconds,
            "errors": result.errors,
        }
        section.rows.append(row)
        if result.errors:
            section.errors.append(
                f"{count} servers: {result.errors} error(s), first: {result.first_error}"
            )
    one = section.rows[0]["rate"]
    for row in section.rows:
        row["vs_one"] = row["rate"] / one if one else float("nan")
    top = section.rows[-1]
    section.targets.append(
        Target(
            f"servers: conversations/s with {top['servers']} servers on one PostgreSQL / with 1 "
            f"({os.cpu_count()} cores)",
            top["vs_one"],
            TARGET_SCALE,
            "x",
            higher_is_better=True,
        )
    )
    section.notes += [
        f"{pairs_count} pairs by {KIND}, {warmup:g} s warm-up then {measured:g} s measured, "
        f"{settings.processes} load-generator process(es). Each agent's connection goes to the "
        "next server in turn, so with 2 or more servers every asker and its answerer are on "
        "different servers.",
        "CPU % is of one core: the servers' summed, PostgreSQL's (its server process and "
        "backends), the load generator's. On a machine with fewer free cores than servers "
        "the servers share them: the figure shows what the deployment carries there, not "
        "what more machines would.",
    ]
    return section
