"""PostgreSQL's pooled connections are checked before each use without a round trip
while they are quiet, and a connection whose backend went away is still replaced
before a request uses it (``crosswalk.db.engine.quiet_before_ping``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text

from crosswalk.db.engine import create_database_engine, quiet_before_ping
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.domain.rows import NewAgent


def end_every_other_backend(postgres_url: str) -> int:
    """``pg_terminate_backend`` on every connection to the database but this one."""
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None
    return int(ended[0])


@pytest.fixture
def counted(postgres_url: str) -> Iterator[tuple[Engine, list[Any]]]:
    """An engine whose real pings (``SELECT 1``) are counted, under the quiet check."""
    engine = create_engine(postgres_url, pool_pre_ping=True, pool_size=2)
    pings: list[Any] = []
    real = engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return bool(real(dbapi_connection))

    engine.dialect.do_ping = counting  # type: ignore[method-assign]
    quiet_before_ping(engine.dialect)
    try:
        yield engine, pings
    finally:
        engine.dispose()


def test_a_quiet_connection_is_used_without_a_ping(counted: tuple[Engine, list[Any]]) -> None:
    engine, pings = counted
    for _ in range(5):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []


def test_a_connection_whose_backend_ended_is_pinged_and_replaced(
    counted: tuple[Engine, list[Any]], postgres_url: str
) -> None:
    engine, pings = counted
    with engine.connect() as conn:
        before = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert end_every_other_backend(postgres_url) >= 1

    with engine.connect() as conn:
        after = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()

    assert len(pings) == 1  # the closed socket was readable: asked, failed, replaced
    assert after != before


def test_the_servers_engine_rides_out_its_backends_ending(postgres_url: str) -> None:
    engine = create_database_engine(postgres_url)
    agents = SqlAlchemyAgentRepository(engine)
    try:
        created = agents.create(NewAgent(worktree_id="w1", name="before"))
        assert agents.find_by_id(created.id) == created  # the pool now holds connections
        assert end_every_other_backend(postgres_url) >= 1

        assert agents.find_by_id(created.id) == created  # the hot path's pooled read
        assert agents.create(NewAgent(worktree_id="w2", name="after")).name == "after"  # a write
    finally:
        engine.dispose()
