"""Alembic migrations, ``ensure_schema`` and the engine's connection setup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select

from crosswalk.db import migrate
from crosswalk.db.engine import READONLY, SQLITE_BUSY_TIMEOUT_MS, create_database_engine
from crosswalk.db.migrate import current_revision, ensure_schema, head_revision
from crosswalk.db.schema import initiatives, metadata
from crosswalk.domain.timestamps import utcnow


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An engine on a SQLite file no migration has touched."""
    engine = create_database_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


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
def test_indexes_the_seed_names(engine: Engine, table: str, columns: tuple[str]) -> None:
    assert columns in index_column_sets(engine, table)


def test_one_root_page_per_initiative_is_a_partial_unique_index(engine: Engine) -> None:
    with engine.connect() as conn:
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
            ("ux_pages_root_per_initiative",),
        ).scalar_one()
    assert "UNIQUE INDEX" in sql
    assert "WHERE parent_page_id IS NULL" in sql


def test_a_fresh_database_file_is_created_with_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "crosswalk.db"
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    assert path.exists()
