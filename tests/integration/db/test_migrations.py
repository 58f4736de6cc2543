"""Alembic migrations, ``ensure_schema`` and the engine's connection setup."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select, text
from tests.conftest import DATABASES
from tests.support.postgres import PostgresServer

from crosswalk.db import migrate
from crosswalk.db.engine import READONLY, SQLITE_BUSY_TIMEOUT_MS, create_database_engine
from crosswalk.db.migrate import current_revision, ensure_schema, head_revision
from crosswalk.db.schema import initiatives, metadata
from crosswalk.domain.timestamps import utcnow


@pytest.fixture(params=DATABASES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database no migration has touched: a new SQLite file, or a new
    database on the test PostgreSQL server."""
    if request.param == "sqlite":
        engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = f"empty_{uuid.uuid4().hex}"
    engine = create_database_engine(server.create_database(name))
    yield engine
    engine.dispose()
    server.drop_database(name)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_head_matches_the_schema_module(engine: Engine) -> None:
    """Autogenerate against a database at head finds nothing to do: every table,
    column, type, server default, index and constraint of ``schema`` is migrated."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, metadata) == []


def test_upgrade_downgrade_and_upgrade_again(empty_engine: Engine) -> None:
    schema_tables = set(metadata.tables)

    migrate.upgrade(empty_engine, "head")
    assert table_names(empty_engine) == schema_tables | {"alembic_version"}
    assert current_revision(empty_engine) == head_revision()

    migrate.downgrade(empty_engine, "base")
    assert table_names(empty_engine) == {"alembic_version"}
    assert current_revision(empty_engine) is None

    migrate.upgrade(empty_engine, "head")
    assert table_names(empty_engine) == schema_tables | {"alembic_version"}
    assert current_revision(empty_engine) == head_revision()


def test_ensure_schema_is_idempotent_and_keeps_data(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(initiatives).values(id="i1", name="kept", created_at=now, updated_at=now)
        )

    def no_upgrade(*_: object) -> None:
        raise AssertionError("ensure_schema ran a migration on a database at head")

    monkeypatch.setattr(migrate, "upgrade", no_upgrade)
    ensure_schema(engine)
    ensure_schema(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(select(initiatives.c.name)).scalars().all() == ["kept"]


def test_ensure_schema_migrates_an_empty_database(empty_engine: Engine) -> None:
    ensure_schema(empty_engine)
    ensure_schema(empty_engine)

    assert current_revision(empty_engine) == head_revision()
    assert set(metadata.tables) <= table_names(empty_engine)


@pytest.mark.sqlite_only
def test_every_connection_gets_the_pragmas(engine: Engine) -> None:
    """Checked on two connections open at once: the setup is per connection.
    (Read-only, so that neither waits for the other's write lock.)"""
    with engine.connect() as first, engine.connect() as second:
        for conn in (first, second):
            conn = conn.execution_options(**{READONLY: True})
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            busy_timeout = pragma("PRAGMA busy_timeout").scalar()
            assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS > 0


def unique_column_sets(engine: Engine, table: str) -> set[tuple[str, ...]]:
    """Columns made unique by a constraint or by a unique index."""
    inspector = inspect(engine)
    constraints = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
    indexes = {
        tuple(str(column) for column in index["column_names"])
        for index in inspector.get_indexes(table)
        if index["unique"]
    }
    return constraints | indexes


def index_column_sets(engine: Engine, table: str) -> set[tuple[str, ...]]:
    return {
        tuple(str(column) for column in index["column_names"])
        for index in inspect(engine).get_indexes(table)
    }


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("agents", ("name",)),
        ("projects", ("name",)),
        ("projects", ("url",)),
        ("initiative_projects", ("initiative_id", "project_id")),
        ("initiatives", ("branch",)),
    ],
)
def test_unique_columns_the_seed_names(engine: Engine, table: str, columns: tuple[str]) -> None:
    assert columns in unique_column_sets(engine, table)


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("agent_log_chunks", ("agent_id",)),
        ("conversations", ("to_agent_id", "status")),
        ("conversations", ("from_agent_id",)),
    ],
)
def test_indexes_serve_the_seed_names(engine: Engine, table: str, columns: tuple[str]) -> None:
    """An index leads with the seed's columns, so it serves every lookup the seed's did
    (conversations' ``from_agent_id`` index also holds status and to_agent_id: 0007)."""
    assert any(found[: len(columns)] == columns for found in index_column_sets(engine, table))


def test_one_root_page_per_initiative_is_a_partial_unique_index(engine: Engine) -> None:
    query = (
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
        if engine.dialect.name == "sqlite"
        else "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    )
    with engine.connect() as conn:
        sql = conn.execute(text(query), {"name": "ux_pages_root_per_initiative"}).scalar_one()
    assert "UNIQUE INDEX" in sql
    # PostgreSQL prints the predicate in parentheses: WHERE (parent_page_id IS NULL)
    assert "WHERE parent_page_id IS NULL" in sql.replace("(", "").replace(")", "")


def test_a_fresh_database_file_is_created_with_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "crosswalk.db"
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    assert path.exists()


def test_servers_starting_together_on_postgresql_migrate_once(postgres: PostgresServer) -> None:
    """Each server runs ``ensure_schema`` on start; started together on an empty
    database, one migrates while the others wait, and none fails."""
    name = f"together_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    engines = [create_database_engine(url) for _ in range(3)]
    errors: list[BaseException] = []

    def start(engine: Engine) -> None:
        try:
            ensure_schema(engine)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        assert all(current_revision(engine) == head_revision() for engine in engines)
    finally:
        for engine in engines:
            engine.dispose()
        postgres.drop_database(name)
