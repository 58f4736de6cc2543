"""Fixtures shared by every tier.

``database_url`` is one fresh SQLite file per test. The repository and procedure
tiers override it with ``dual_database_url``: each of their tests runs twice, on
SQLite and on a real PostgreSQL (``tests/support/postgres.py``) that the session
starts on first use and stops at the end.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crosswalk.db import loop_guard
from crosswalk.db.encryption import SecretBox, generate_key
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.schema import metadata
from tests.support.postgres import PostgresServer, PostgresUnavailableError

DATABASES = ("sqlite", "postgresql")
_SHARED_DATABASE = "crosswalk_test"


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def blocked_on_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every engine the test creates on PostgreSQL refuses blocking calls on an event
    loop's thread (``crosswalk.db.loop_guard``); the refusals it logged, which fail the
    test (a test that provokes one on purpose clears the list)."""
    monkeypatch.setenv(loop_guard.ENV, "1")
    recorder = _Recorder()
    loop_guard.logger.addHandler(recorder)
    try:
        yield recorder.lines
    finally:
        loop_guard.logger.removeHandler(recorder)


@pytest.fixture(autouse=True)
def _no_blocking_database_call_on_the_loop(blocked_on_loop: list[str]) -> Iterator[None]:
    """Fails the test if any blocking database call ran on an event loop's thread, even
    one whose exception a background loop swallowed."""
    yield
    if blocked_on_loop:
        pytest.fail("\n".join(blocked_on_loop), pytrace=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole session. Without server binaries
    the test is skipped with the reason, except in CI, where it fails."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailableError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def _postgres_shared_url(postgres: PostgresServer) -> str:
    """One database migrated once per session; ``postgres_url`` empties it per test."""
    url = postgres.create_database(_SHARED_DATABASE)
    engine = create_database_engine(url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    return url


# Fake agent CLIs, model-API stand-ins and the real CLIs: see tests/agents/README.md.
pytest_plugins = ["tests.agents.fixtures"]


@pytest.fixture
def postgres_url(postgres: PostgresServer, _postgres_shared_url: str) -> str:
    """A PostgreSQL database at the Alembic head with every table empty.

    Emptying one migrated database (after ending any connection a previous test
    left behind) costs a tenth of creating and migrating a new one per test; on
    tables this small DELETE is faster than TRUNCATE.
    """
    deletes = "; ".join(f'DELETE FROM "{table.name}"' for table in reversed(metadata.sorted_tables))
    postgres.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{_SHARED_DATABASE}' AND pid <> pg_backend_pid()"
    )
    postgres.execute(deletes, database=_SHARED_DATABASE)
    return _postgres_shared_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file, one per test."""
    return f"sqlite:///{tmp_path / 'crosswalk.db'}"


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests using ``dual_database_url`` run once per database; those marked
    ``sqlite_only`` (they check SQLite's own machinery: PRAGMAs, query plans,
    per-thread connections) only on SQLite."""
    if "dual_database_url" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only") is not None
        backends = ("sqlite",) if sqlite_only else DATABASES
        metafunc.parametrize("dual_database_url", backends, indirect=True)


@pytest.fixture
def dual_database_url(request: pytest.FixtureRequest) -> str:
    """``sqlite_url`` or ``postgres_url``, as parametrized above."""
    name = "postgres_url" if request.param == "postgresql" else "sqlite_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a real database migrated to head."""
    box = SecretBox([generate_key().encode()])
    engine = create_database_engine(database_url, secret_box=box)
    ensure_schema(engine)
    yield engine
    engine.dispose()
