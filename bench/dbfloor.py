"""The database floor: hot-path repository operations next to the same SQL on raw sqlite3.

Both sides get a database migrated by ``ensure_schema``, the engine's PRAGMAs
(foreign keys, WAL, ``synchronous=NORMAL``, busy timeout) and one transaction per
operation as the repository runs it: ``BEGIN IMMEDIATE`` ... ``COMMIT`` for writes,
and for reads the lone ``SELECT`` (SQLite's own per-statement transaction). The raw
side sends the very statements the repository sends (as SQLite traces them) and
keeps the rows as tuples: what is left between the two is the cost of the
repository layer (pool checkout, parameter and row conversion, dataclasses).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Column, Section, Target
from bench.settings import Settings
from crosswalk.db.engine import SQLITE_BUSY_TIMEOUT_MS, create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.repositories.sqlalchemy import (
    SqlAlchemyAgentRepository,
    SqlAlchemyConversationRepository,
)
from crosswalk.domain.rows import NewAgent, NewConversation
from crosswalk.ids import new_id
from crosswalk.services.auth import hash_token

TARGET_RATIO = 2.0
PROBE_PENDING = 3
_ROW = (
    "id, from_agent_id, to_agent_id, initiative_id, phase_id, task_id, question, answer,"
    " status, created_at, updated_at"
)
_CONVERSATION = ", ".join(f"conversations.{column}" for column in _ROW.split(", "))
INSERT = (
    f"INSERT INTO conversations ({_ROW}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_ROW}"
)
PENDING = (
    f"SELECT {_CONVERSATION} \nFROM conversations \nWHERE conversations.to_agent_id = ?"
    " AND conversations.status = ? ORDER BY conversations.created_at, conversations.id"
)
ANSWER = (
    "UPDATE conversations SET answer=?, status=?, updated_at=? WHERE conversations.id = ?"
    f" AND conversations.status = ? RETURNING {_ROW}"
)
GET = f"SELECT {_CONVERSATION} \nFROM conversations \nWHERE conversations.id = ?"
TOKEN = "SELECT agents.id FROM agents WHERE agents.token_hash = ?"

# (key, label, checked against the target)
OPERATIONS = (
    ("insert", "insert conversation (ask)", True),
    ("pending", f"find pending for agent ({PROBE_PENDING} rows)", True),
    ("answer", "answer conversation", True),
    ("get", "get conversation by id (waitForAnswer)", False),
)


@dataclass
class Fixture:
    asker: str
    sink: str  # receives the inserted questions, which the answer step then answers
    probe: str  # has PROBE_PENDING pending questions
    token_hash: str


def _fixture(path: Path) -> Fixture:
    """A migrated database with the agents and pending questions both sides need."""
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
        agents = SqlAlchemyAgentRepository(engine)
        conversations = SqlAlchemyConversationRepository(engine)
        token_hash = hash_token("floor")
        asker, sink, probe = (
            agents.create(NewAgent(".", token_hash=token_hash if i == 0 else None))
            for i in range(3)
        )
        for _ in range(PROBE_PENDING):
            conversations.create(NewConversation(asker.id, probe.id, "pending?"))
    finally:
        engine.dispose()
    return Fixture(asker.id, sink.id, probe.id, token_hash)


def _raw_connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "foreign_keys = ON",
        f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
        "journal_mode = WAL",
        "synchronous = NORMAL",
    ):
        connection.execute(f"PRAGMA {pragma}")
    return connection


class RawSide:
    """The same statements on the stdlib driver, one transaction each."""

    def __init__(self, path: Path, fixture: Fixture) -> None:
        self.db = _raw_connection(path)
        self.fixture = fixture

    def _write(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            rows = db.execute(sql, params).fetchall()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return rows

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return self.db.execute(sql, params).fetchall()

    def insert(self) -> str:
        now = int(time.time() * 1000)
        f = self.fixture
        params = (new_id(), f.asker, f.sink, None, None, None, "floor?", None, "pending", now, now)
        return str(self._write(INSERT, params)[0][0])

    def pending(self) -> int:
        return len(self._read(PENDING, (self.fixture.probe, "pending")))

    def answer(self, id: str) -> None:
        now = int(time.time() * 1000)
        if not self._write(ANSWER, ("floor.", "answered", now, id, "pending")):
            raise RuntimeError(f"raw answer found no pending {id}")

    def get(self, id: str) -> None:
        if not self._read(GET, (id,)):
            raise RuntimeError(f"raw get found no {id}")

    def close(self) -> None:
        self.db.close()


class RepositorySide:
    """The SQLAlchemy adapters the server uses, on the server's engine setup."""

    def __init__(self, path: Path, fixture: Fixture) -> None:
        self.engine = create_database_engine(f"sqlite:///{path}")
        self.conversations = SqlAlchemyConversationRepository(self.engine)
        self.fixture = fixture

    def insert(self) -> str:
        f = self.fixture
        return self.conversations.create(NewConversation(f.asker, f.sink, "floor?")).id

    def pending(self) -> int:
        return len(self.conversations.find_pending_for_agent(self.fixture.probe))

    def answer(self, id: str) -> None:
        self.conversations.answer(id, "floor.")

    def get(self, id: str) -> None:
        self.conversations.get(id)

    def close(self) -> None:
        self.engine.dispose()


Side = RawSide | RepositorySide


def _rate(count: int, op: Callable[[], Any]) -> float:
    started = time.perf_counter()
    for _ in range(count):
        op()
    return count / (time.perf_counter() - started)


def _round(side: Side, count: int) -> dict[str, float]:
    """One round of every operation, ``count`` times each; ops/s per operation."""
    ids: list[str] = []

    def insert() -> None:
        ids.append(side.insert())

    rates = {"insert": _rate(count, insert)}
    found = side.pending()
    if found != PROBE_PENDING:
        raise RuntimeError(f"pending lookup found {found} rows, expected {PROBE_PENDING}")
    rates["pending"] = _rate(count, side.pending)
    to_get = iter(ids)
    rates["get"] = _rate(count, lambda: side.get(next(to_get)))
    to_answer = iter(ids)
    rates["answer"] = _rate(count, lambda: side.answer(next(to_answer)))
    return rates


def run(settings: Settings) -> Section:
    section = Section(
        "dbfloor",
        "Database floor: repository vs raw sqlite3, same statements, one transaction per op",
        [
            Column("operation", "operation"),
            Column("repository_ops", "repository ops/s", 0),
            Column("raw_ops", "raw sqlite3 ops/s", 0),
            Column("ratio", "raw / repository", 2),
            Column("repository_us", "repository µs/op", 1),
            Column("raw_us", "raw µs/op", 1),
        ],
    )
    count, rounds = settings.count(1000, 300), settings.count(7, 1)
    home = settings.workdir("dbfloor")
    paths = {"repository": home / "repository.db", "raw": home / "raw.db"}
    fixtures = {name: _fixture(path) for name, path in paths.items()}
    repository_side = RepositorySide(paths["repository"], fixtures["repository"])
    sides: dict[str, Side] = {
        "repository": repository_side,
        "raw": RawSide(paths["raw"], fixtures["raw"]),
    }
    measured: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    try:
        _round(sides["repository"], min(count, 200))  # warm caches (compiled SQL, pages)
        _round(sides["raw"], min(count, 200))
        for _ in range(rounds):  # alternate sides, so drift hits both alike
            for name, side in sides.items():
                measured[name].append(_round(side, count))
        engine = repository_side.engine
        pool_us = 1e6 / _rate(count, lambda: engine.raw_connection().close())
    finally:
        for side in sides.values():
            side.close()
    for key, label, checked in OPERATIONS:
        repository = statistics.median(r[key] for r in measured["repository"])
        raw = statistics.median(r[key] for r in measured["raw"])
        # Each round's two sides ran back to back: their ratio cancels slow drift.
        ratio = statistics.median(
            raw_round[key] / repository_round[key]
            for raw_round, repository_round in zip(
                measured["raw"], measured["repository"], strict=True
            )
        )
        section.rows.append(
            {
                "operation": label,
                "repository_ops": repository,
                "raw_ops": raw,
                "ratio": ratio,
                "repository_us": 1e6 / repository,
                "raw_us": 1e6 / raw,
            }
        )
        if checked:
            section.targets.append(
                Target(f"{label}: raw / repository", ratio, TARGET_RATIO, "x", False)
            )
    section.notes += [
        f"{rounds} round(s) of {count} operations each, sides alternating; ops/s are the "
        "median round, the ratio (how many times faster raw sqlite3 is; target: under 2) is "
        "the median of the rounds' ratios.",
        "get conversation by id is shown for reference (waitForAnswer and answer use it).",
        f"Fixed cost in every repository operation: {pool_us:.1f} µs to check a connection "
        "out of SQLAlchemy's pool and return it; the rest is parameter and row conversion "
        "and building the row dataclasses.",
    ]
    return section
