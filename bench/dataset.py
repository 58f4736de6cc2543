"""Bulk-loaded databases for the scale benchmark: a migrated schema, then raw executemany.

The history is what a busy deployment accumulates: conversations spread over many
agents, nearly all answered. A few agents are singled out: ``probe`` (whose pending
questions the benchmark looks up) has a large answered history and a handful of
pending questions; ``asker``/``answerer`` (who hold tokens, to talk to the real
server) have large answered histories and nothing pending.
"""

from __future__ import annotations

import random
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.server import BenchAgent
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.services.auth import hash_token

BATCH_ROWS = 50_000
HISTORY_AGENTS = 1_000
PROBE_PENDING = 5
# Shares of the history addressed to the singled-out agents, and of it left pending.
PROBE_SHARE = 0.01
PAIR_SHARE = 0.01
STRAY_PENDING_SHARE = 0.001
_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"


@dataclass(frozen=True)
class Dataset:
    path: Path
    conversations: int
    probe: BenchAgent
    asker: BenchAgent
    answerer: BenchAgent
    load_s: float
    size_bytes: int


def _ids(rng: random.Random) -> Iterator[str]:
    """nanoid-shaped ids, cheaply (the loader needs a million of them)."""
    choices = rng.choices
    while True:
        yield "".join(choices(_ALPHABET, k=21))


def migrate(path: Path) -> None:
    """An empty database at the Alembic head, exactly as the server would create it."""
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()


def build(path: Path, conversations: int, *, seed: int = 5) -> Dataset:
    """Create ``path`` with ``conversations`` stored conversations (see module docstring)."""
    started = time.perf_counter()
    migrate(path)
    rng = random.Random(seed)
    ids = _ids(rng)
    now_ms = int(time.time() * 1000)
    start_ms = now_ms - conversations  # one conversation per millisecond of history

    special = {
        name: BenchAgent(next(ids), "cw_" + secrets.token_urlsafe(32))
        for name in ("probe", "asker", "answerer")
    }
    others = [next(ids) for _ in range(HISTORY_AGENTS)]
    agent_rows = [
        (agent.id, f"bench-{name}", hash_token(agent.token)) for name, agent in special.items()
    ] + [(agent_id, f"bench-history-{i}", None) for i, agent_id in enumerate(others)]

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA synchronous = OFF")  # a bulk load: nothing to lose
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO agents (id, name, worktree_id, provider, status, mode, token_hash,"
            " created_at, updated_at) VALUES (?, ?, '.', 'claude', 'idle', 'execute', ?, ?, ?)",
            [(*row, start_ms, start_ms) for row in agent_rows],
        )
        connection.execute("COMMIT")
        probe, asker, answerer = special["probe"].id, special["asker"].id, special["answerer"].id
        pick = rng.random
        other = rng.choice
        sql = (
            "INSERT INTO conversations (id, from_agent_id, to_agent_id, question, answer,"
            " status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        pending_left = PROBE_PENDING
        for first in range(0, conversations, BATCH_ROWS):
            rows = []
            for n in range(first, min(conversations, first + BATCH_ROWS)):
                roll = pick()
                created = start_ms + n
                if roll < PROBE_SHARE:
                    to_agent, from_agent = probe, other(others)
                elif roll < PROBE_SHARE + PAIR_SHARE:
                    to_agent, from_agent = answerer, asker
                else:
                    from_agent, to_agent = rng.sample(others, 2)
                pending = roll > 1 - STRAY_PENDING_SHARE
                if pending_left and n >= conversations - PROBE_PENDING:
                    to_agent, from_agent, pending = probe, other(others), True
                    pending_left -= 1
                rows.append(
                    (
                        next(ids),
                        from_agent,
                        to_agent,
                        f"question {n}",
                        None if pending else f"answer {n}",
                        "pending" if pending else "answered",
                        created,
                        created,
                    )
                )
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(sql, rows)
            connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    return Dataset(
        path=path,
        conversations=conversations,
        probe=special["probe"],
        asker=special["asker"],
        answerer=special["answerer"],
        load_s=time.perf_counter() - started,
        size_bytes=path.stat().st_size,
    )
