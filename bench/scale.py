"""Scale: the hot path with 10k, 100k and 1M conversations already stored.

Each level bulk-loads a fresh database (``bench.dataset``), then measures
``find_pending_for_agent`` through the repository in this process, prints SQLite's
plan for the statement the repository sends, and runs full conversations through
a real server on that database. Flat times across levels mean the index does the
work; the plan line shows which index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bench.conversations import Pair, measure
from bench.dataset import Dataset, build
from bench.loadgen import Window, summarize_ms
from bench.report import Column, Section, Target
from bench.server import BenchServer
from bench.settings import Settings
from crosswalk.db.engine import create_database_engine
from crosswalk.db.repositories.sqlalchemy import SqlAlchemyConversationRepository

LEVELS = (10_000, 100_000, 1_000_000)
QUICK_LEVELS = (10_000,)
INDEX = "ix_conversations_to_agent_id_status"
# Flat means: the largest level's median within this factor of the smallest's.
FLATNESS = 2.0


def probe_pending(dataset: Dataset, lookups: int) -> tuple[dict[str, float], str]:
    """Time ``find_pending_for_agent`` for the probe agent; return the timings and the
    query plan of the statement the repository actually sent."""
    engine = create_database_engine(f"sqlite:///{dataset.path}")
    try:
        repo = SqlAlchemyConversationRepository(engine)
        sent: list[str] = []

        def trace(dbapi_connection: Any, *_: Any) -> None:
            # Traced by the driver, which sees prepared statements too (values inlined).
            dbapi_connection.set_trace_callback(sent.append)

        event.listen(engine, "checkout", trace)
        found = repo.find_pending_for_agent(dataset.probe.id)
        event.remove(engine, "checkout", trace)
        engine.dispose()  # pooled connections forget the trace
        if len(found) != 5:
            raise RuntimeError(f"expected 5 pending questions for the probe, got {len(found)}")
        statement = next(sql for sql in sent if "FROM conversations" in sql)
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
        timings = _time_calls(lambda: repo.find_pending_for_agent(dataset.probe.id), lookups)
    finally:
        engine.dispose()
    return timings, "; ".join(str(row[-1]) for row in plan)


def probe_cap(dataset: Dataset, lookups: int) -> dict[str, float]:
    """Time the per-pair cap's count that every ask makes, for the server pair's asker,
    who holds ~1% of the stored history: it must read only pending rows, not all of the
    asker's questions (``ix_conversations_from_agent_id_status``)."""
    engine = create_database_engine(f"sqlite:///{dataset.path}")
    try:
        repo = SqlAlchemyConversationRepository(engine)
        asker, answerer = dataset.asker.id, dataset.answerer.id
        if repo.count_pending_between(asker, answerer) != 0:
            raise RuntimeError("the server pair's history should be all answered")
        return _time_calls(lambda: repo.count_pending_between(asker, answerer), lookups)
    finally:
        engine.dispose()


def _time_calls(call: Callable[[], object], count: int) -> dict[str, float]:
    """``call`` timed ``count`` times, after up to 100 untimed calls to warm up."""
    for _ in range(min(count, 100)):
        call()
    timings: list[int] = []
    for _ in range(count):
        started = time.perf_counter_ns()
        call()
        timings.append(time.perf_counter_ns() - started)
    return summarize_ms(timings)


def run(settings: Settings) -> Section:
    section = Section(
        "scale",
        "Scale: stored conversations vs hot-path time",
        [
            Column("stored", "stored"),
            Column("load_s", "load s", 1),
            Column("db_mb", "db MB", 0),
            Column("pending_p50_us", "findPending p50 µs", 0),
            Column("pending_p99_us", "findPending p99 µs", 0),
            Column("cap_p50_us", "asker's cap count p50 µs", 0),
            Column("rate", "conversations/s (1 pair)", 0),
            Column("p50_ms", "round trip p50 ms", 2),
            Column("p99_ms", "round trip p99 ms", 2),
            Column("uses_index", "uses index"),
        ],
    )
    lookups = settings.count(2000, 200)
    warmup, duration = settings.pick(0.5, 0.2), settings.pick(3.0, 1.0)
    plans: dict[int, str] = {}
    for stored in QUICK_LEVELS if settings.quick else LEVELS:
        home = settings.workdir(f"scale-{stored}")
        dataset = build(home / "crosswalk.db", stored)
        try:
            pending, plan = probe_pending(dataset, lookups)
            cap = probe_cap(dataset, lookups)
            plans[stored] = plan
            with BenchServer(home, db=dataset.path) as server:
                window = Window.after(0.2, warmup, duration)
                result = measure(
                    server, [Pair(dataset.asker, dataset.answerer)], "agent-id", window, 1
                )
            if result.errors:
                section.errors.append(f"{stored:,} stored: {result.first_error}")
            latency = summarize_ms(result.latencies_ns)
            section.rows.append(
                {
                    "stored": stored,
                    "load_s": dataset.load_s,
                    "db_mb": dataset.size_bytes / 1e6,
                    "pending_p50_us": pending["p50_ms"] * 1000,
                    "pending_p99_us": pending["p99_ms"] * 1000,
                    "cap_p50_us": cap["p50_ms"] * 1000,
                    "rate": result.completed / window.seconds,
                    "p50_ms": latency["p50_ms"],
                    "p99_ms": latency["p99_ms"],
                    "uses_index": f"USING INDEX {INDEX}" in plan
                    and "SCAN conversations" not in plan,
                    "plan": plan,
                }
            )
        finally:
            for leftover in home.glob("crosswalk.db*"):
                leftover.unlink()
    first, last = section.rows[0], section.rows[-1]
    if len(section.rows) > 1:
        for key, label in (
            ("pending_p50_us", "findPending p50"),
            ("cap_p50_us", "asker's cap count p50"),
            ("p50_ms", "round trip p50"),
        ):
            section.targets.append(
                Target(
                    f"{label} at {last['stored']:,} / at {first['stored']:,} stored",
                    last[key] / first[key],
                    FLATNESS,
                    "x",
                    higher_is_better=False,
                )
            )
    section.targets.append(
        Target(
            f"plans using {INDEX}",
            sum(bool(row["uses_index"]) for row in section.rows),
            len(section.rows),
            f"of {len(section.rows)}",
            higher_is_better=True,
        )
    )
    section.notes += [
        *(f"EXPLAIN QUERY PLAN at {stored:,}: {plan}" for stored, plan in plans.items()),
        f"Stored history: spread over {1000:,} agents, ~99.9% answered; the probed agent holds "
        "~1% of it (answered) plus 5 pending; the server pair holds another ~1% (answered).",
        f"findPending: {lookups} lookups through the repository, in process; the asker's cap "
        "count likewise (`count_pending_between`, made on every ask, for the server pair's "
        "asker and its ~1% of the history). Round trip: one "
        f"asker/answerer pair through the real server for {duration:g} s.",
    ]
    return section
