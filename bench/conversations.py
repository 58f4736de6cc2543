"""Full conversations between asker/answerer pairs, each agent on its own token.

One cycle: the asker sends ``conversation.ask`` (POST) then parks on
``conversation.waitForAnswer`` (GET long poll); the answerer, parked on
``conversation.listen`` (GET long poll), wakes and sends ``conversation.answer``
(POST). The round trip runs from the moment the ask is sent to the moment the
asker receives the answered conversation; every answer is checked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.loadgen import (
    Connection,
    Window,
    WorkerResult,
    measure_cpu,
    rate_row,
    run_workers,
    split,
)
from bench.report import Column, Section, Target
from bench.server import BenchAgent, BenchServer
from bench.settings import Settings

LEVELS = (1, 20, 100)
LISTEN_TIMEOUT_MS = 5_000
STOP = "that is all"  # the asker's last question: its answerer answers and leaves
WAIT_TIMEOUT_MS = 10_000
MAX_CYCLES_PER_PAIR = 1_000_000
TARGET_RATE_PAIRS = 20
TARGET_RATE = 600.0
TARGET_P50_MS = 3.0


@dataclass(frozen=True)
class Pair:
    asker: BenchAgent
    answerer: BenchAgent


def make_pairs(server: BenchServer, count: int) -> list[Pair]:
    agents = server.create_agents(2 * count)
    return [Pair(agents[2 * i], agents[2 * i + 1]) for i in range(count)]


async def drive_pairs(
    port: int, pairs: Sequence[Pair], window: Window, server_pid: int | None
) -> WorkerResult:
    """Run every pair's cycle until the window ends; count cycles inside it."""
    result = WorkerResult()
    askers = [await Connection.open(port, pair.asker.token) for pair in pairs]
    answerers = [await Connection.open(port, pair.answerer.token) for pair in pairs]

    async def ask_loop(pair: Pair, connection: Connection) -> None:
        ask = {"fromAgentId": pair.asker.id, "toAgentId": pair.answerer.id, "question": ""}
        try:
            for n in range(MAX_CYCLES_PER_PAIR):
                if window.over:
                    break
                ask["question"] = question = f"q{n} from {pair.asker.id}"
                started = time.perf_counter_ns()
                asked = await connection.mutation("conversation.ask", ask)
                waited = await connection.query(
                    "conversation.waitForAnswer", {"id": asked["id"], "timeoutMs": WAIT_TIMEOUT_MS}
                )
                ended = time.perf_counter_ns()
                if waited["status"] != "answered" or waited["answer"] != "re: " + question:
                    raise RuntimeError(f"wrong answer for {asked['id']}: {waited!r}")
                if window.contains(started, ended):
                    result.completed += 1
                    result.latencies_ns.append(ended - started)
            ask["question"] = STOP
            asked = await connection.mutation("conversation.ask", ask)
            await connection.query(
                "conversation.waitForAnswer", {"id": asked["id"], "timeoutMs": WAIT_TIMEOUT_MS}
            )
        except Exception as exc:
            result.error(exc)

    # An answerer leaves on its asker's last question, or at the latest here (when its
    # asker failed and never sent one).
    give_up_ns = window.end_ns + int((WAIT_TIMEOUT_MS + LISTEN_TIMEOUT_MS) * 1e6)

    async def answer_loop(pair: Pair, connection: Connection) -> None:
        listen = {"agentId": pair.answerer.id, "timeoutMs": LISTEN_TIMEOUT_MS}
        try:
            for _ in range(MAX_CYCLES_PER_PAIR):
                if time.perf_counter_ns() > give_up_ns:
                    raise TimeoutError("the asker never sent its last question")
                for question in await connection.query("conversation.listen", listen):
                    await connection.mutation(
                        "conversation.answer",
                        {"id": question["id"], "answer": "re: " + question["question"]},
                    )
                    if question["question"] == STOP:
                        return
        except Exception as exc:
            result.error(exc)

    try:
        await asyncio.gather(
            measure_cpu(window, result, server_pid),
            *map(ask_loop, pairs, askers),
            *map(answer_loop, pairs, answerers),
        )
    finally:
        for connection in (*askers, *answerers):
            await connection.close()
    return result


def measure(
    server: BenchServer, pairs: Sequence[Pair], window: Window, processes: int
) -> WorkerResult:
    shares = split(pairs, processes)
    args = [
        (server.port, share, window, server.pid if i == 0 else None)
        for i, share in enumerate(shares)
    ]
    deadline = (window.end_ns - time.perf_counter_ns()) / 1e9
    return run_workers(drive_pairs, args, deadline_s=deadline + WAIT_TIMEOUT_MS / 1000)


def run(settings: Settings) -> Section:
    section = Section(
        "conversations",
        "Conversations: asker/answerer pairs, full cycle over HTTP",
        [
            Column("database", "database"),
            Column("pairs", "pairs"),
            Column("rate", "conversations/s", 0),
            Column("p50_ms", "p50 ms", 2),
            Column("p95_ms", "p95 ms", 2),
            Column("p99_ms", "p99 ms", 2),
            Column("server_cpu_pct", "server CPU %", 0),
            Column("client_cpu_pct", "client CPU %", 0),
            Column("server_us_per_op", "server CPU µs/conv", 0),
            Column("errors", "errors"),
        ],
    )
    warmup, duration = settings.pick(1.0, 0.3), settings.pick(5.0, 1.0)
    profile = settings.profile_dir

    def levels(server: BenchServer, database: str) -> None:
        for level in LEVELS:
            pairs = make_pairs(server, level)  # fresh agents: nothing left over
            window = Window.after(0.2, warmup, duration)
            result = measure(server, pairs, window, settings.processes)
            section.rows.append({"database": database, "pairs": level, **rate_row(result, window)})
            if result.errors:
                section.errors.append(
                    f"{database}, {level} pairs: {result.errors} error(s), "
                    f"first: {result.first_error}"
                )

    with BenchServer(
        settings.workdir("conversations"),
        profile=profile / "server-conversations.txt" if profile else None,
    ) as server:
        levels(server, "sqlite")
    url = settings.postgres.database("conversations")
    if url is None:
        section.notes.append(f"PostgreSQL rows skipped: {settings.postgres.unavailable}")
    else:
        with BenchServer(settings.workdir("conversations-postgresql"), database_url=url) as server:
            levels(server, "postgresql")
    rows = {row["pairs"]: row for row in section.rows if row["database"] == "sqlite"}
    section.targets += [
        Target(
            f"conversations/s at {TARGET_RATE_PAIRS} pairs",
            rows[TARGET_RATE_PAIRS]["rate"],
            TARGET_RATE,
            "/s",
            higher_is_better=True,
        ),
        Target("round trip p50, one pair", rows[1]["p50_ms"], TARGET_P50_MS, "ms", False),
    ]
    section.notes += [
        f"Each level: {warmup:g} s warm-up, then {duration:g} s measured; a conversation counts "
        "when its ask was sent and its answer received inside the window.",
        "Round trip = ask sent -> answered conversation received by the asker (4 requests: "
        "ask, listen wakes, answer, waitForAnswer).",
        f"Load generator: {settings.processes} process(es), one keep-alive connection per "
        "agent; server CPU µs/conv = server CPU time in the window / conversations.",
    ]
    return section
