"""Engine construction: one place that knows dialect-specific connection setup."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from crosswalk.config import default_database_url
from crosswalk.db.encryption import SecretBox, attach
from crosswalk.db.loop_guard import forbid_blocking_calls_on_loop, forbidden_by_env
from crosswalk.fsmodes import private_file, sqlite_files, tighten

SQLITE_BUSY_TIMEOUT_MS = 5000
DEFAULT_POOL_SIZE = 10
# Execution option marking a connection that only reads (see ``_begin`` below).
READONLY = "crosswalk_readonly"


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the
    # writer; NORMAL is durable across application crashes in WAL mode.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def create_database_engine(
    url: str | None = None,
    *,
    secret_box: SecretBox | None = None,
    pool_size: int = DEFAULT_POOL_SIZE,
    **kwargs: Any,
) -> Engine:
    """An engine for ``url`` (default: the configured database), ready for crosswalk.

    ``secret_box`` holds the key account secrets are encrypted with (without it,
    writing one fails). ``pool_size``: connections kept to a network database
    (``CW_DB_POOL_SIZE``). A SQLite file is created 0600, and the file, its WAL and its
    shared-memory file are tightened to 0600 (with a warning) if found looser.

    SQLite files get their parent directory created, foreign keys, WAL, a busy
    timeout and ``synchronous=NORMAL``. Transactions on SQLite begin with
    ``BEGIN IMMEDIATE`` so that a read-then-write transaction takes the write
    lock up front instead of failing with "database is locked" half way.

    With ``CW_FORBID_LOOP_DB=1`` (a test mode, ``crosswalk.db.loop_guard``) a network
    database's engine refuses blocking calls made on an event loop's thread.
    """
    sa_url = make_url(url or default_database_url())
    if sa_url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", 5)  # migrations and the odd burst
        engine = create_engine(sa_url, **kwargs)
        quiet_before_ping(engine.dialect)
        if forbidden_by_env():
            forbid_blocking_calls_on_loop(engine)
        return attach(engine, secret_box)

    database = sa_url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        for file in sqlite_files(path)[1:]:
            tighten(file, 0o600)
        # Every thread that runs a unit of work keeps one pooled connection for good
        # (ThreadConnections.sqlalchemy): the pool must not cap the number of threads
        # (SQLite connections are local and cheap), or the sixteenth waits 30 s.
        kwargs.setdefault("max_overflow", -1)
    connect_args = kwargs.pop("connect_args", {})
    # The stdlib driver's own transaction handling is replaced by ours below.
    connect_args.setdefault("isolation_level", None)
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(sa_url, connect_args=connect_args, **kwargs)
    event.listen(engine, "connect", _configure_sqlite_connection)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Readers (execution option ``readonly``) begin deferred and never block. The
        # BEGIN goes straight to the driver: through ``exec_driver_sql`` it cost a whole
        # execution context and result, more than the transaction's own hot statements
        # (docs/performance.md). A refusal is raised as SQLAlchemy would raise it.
        readonly = conn.get_execution_options().get(READONLY, False)
        statement = "BEGIN" if readonly else "BEGIN IMMEDIATE"
        driver = conn.dialect.loaded_dbapi
        try:
            conn.connection.dbapi_connection.execute(statement)
        except driver.Error as exc:
            raise DBAPIError.instance(statement, None, exc, driver.Error) from exc

    return attach(engine, secret_box)


def quiet_before_ping(dialect: Any) -> None:
    """Make the pool's check of a connection before each use (``pool_pre_ping``) ask the
    database only when the connection's socket has something to read.

    The pre-ping is what lets a server ride out a database restart: a connection whose
    server went away is replaced before a request uses it. SQLAlchemy's ping is a
    ``SELECT 1``, a round trip on every checkout (about a quarter of a conversation's
    round trips). But an idle pooled connection has nothing to read until its server
    closes it (restart, ``pg_terminate_backend``, idle timeout) or says something
    unasked; so a socket with nothing to read is alive as far as any ping could tell
    without waiting, and only one with something to read gets the real ping, which
    reads it and fails when the connection is gone.
    """
    if not hasattr(select, "poll"):
        return  # no poll() (Windows): every checkout keeps SQLAlchemy's SELECT 1
    ping = dialect.do_ping

    def do_ping(dbapi_connection: Any) -> bool:
        try:
            fileno = dbapi_connection.fileno()
        except Exception:  # closed, or a driver without one: ask the database
            return bool(ping(dbapi_connection))
        poller = select.poll()
        poller.register(fileno, select.POLLIN | select.POLLPRI)
        if poller.poll(0):
            return bool(ping(dbapi_connection))
        return True

    dialect.do_ping = do_ping


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"
