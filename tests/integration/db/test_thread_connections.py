"""The SQLite hot path's per-thread connections: one per thread, closed on dispose."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Engine

from crosswalk.db.repositories.sqlalchemy._prepared import thread_connection

pytestmark = pytest.mark.sqlite_only


def test_each_thread_keeps_its_own_connection(engine: Engine) -> None:
    mine = thread_connection(engine)
    assert thread_connection(engine) is mine
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(thread_connection(engine)))
    worker.start()
    worker.join()
    assert theirs[0] is not mine


def test_connections_carry_the_engine_pragmas(engine: Engine) -> None:
    connection = thread_connection(engine)
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_dispose_closes_them_and_the_next_call_opens_a_fresh_one(engine: Engine) -> None:
    before = thread_connection(engine)
    engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        before.execute("SELECT 1")
    after = thread_connection(engine)
    assert after is not before
    assert after.execute("SELECT 1").fetchone() == (1,)
