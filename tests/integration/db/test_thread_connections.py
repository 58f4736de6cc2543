"""The SQLite hot path's per-thread connections: one per thread, closed on dispose."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Engine

from crosswalk.db.repositories.sqlalchemy._prepared import thread_connection, thread_connections

pytestmark = pytest.mark.sqlite_only


def test_each_thread_keeps_its_own_connection(engine: Engine) -> None:
    mine = thread_connection(engine)
    assert thread_connection(engine) is mine
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(thread_connection(engine)))
    worker.start()
    worker.join()
    assert theirs[0] is not mine


def test_units_of_work_and_hot_reads_share_the_threads_one_connection(engine: Engine) -> None:
    # One connection, so a write's pages stay in the cache the reads after it use.
    held = thread_connections(engine).sqlalchemy()
    assert held.connection.dbapi_connection is thread_connection(engine)


def test_an_invalidated_connection_is_replaced_for_both(engine: Engine) -> None:
    connections = thread_connections(engine)
    before = thread_connection(engine)
    connections.sqlalchemy().invalidate()
    after = thread_connection(engine)
    assert after is not before
    assert connections.sqlalchemy().connection.dbapi_connection is after
    assert after.execute("SELECT 1").fetchone() == (1,)


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
