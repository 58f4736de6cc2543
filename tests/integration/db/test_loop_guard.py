"""The test mode every test runs in (``tests/conftest.py``): on PostgreSQL a blocking
database call on a thread running an event loop raises, naming the statement and the
code that made it, and is logged so the test fails even where the exception was
swallowed. The same call on a worker thread, a call through an async driver on the loop,
and SQLite (which runs inline by design) pass."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from crosswalk.db.engine import create_database_engine
from crosswalk.db.loop_guard import BlockingCallOnLoopError, forbid_blocking_calls_on_loop
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_database_engine(postgres_url)
    yield engine
    engine.dispose()


def select_one(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT 1 AS guarded_probe")).scalar_one())


async def on_the_loop(engine: Engine) -> int:
    return select_one(engine)


def test_a_blocking_statement_on_the_loop_raises_and_is_logged(
    pg_engine: Engine, blocked_on_loop: list[str]
) -> None:
    select_one(pg_engine)  # checks a connection out of the pool and back in, no loop
    with pytest.raises(BlockingCallOnLoopError) as raised:
        asyncio.run(on_the_loop(pg_engine))
    assert "event loop thread" in str(raised.value)
    assert "select_one <- " in str(raised.value)  # the code that made it
    assert "sqlalchemy" not in str(raised.value)
    assert blocked_on_loop == [str(raised.value)]
    blocked_on_loop.clear()  # provoked on purpose


def test_a_checkout_on_the_loop_is_caught_before_any_statement(
    pg_engine: Engine, blocked_on_loop: list[str]
) -> None:
    async def scenario() -> None:
        pg_engine.connect().close()

    with pytest.raises(BlockingCallOnLoopError, match="connection checkout"):
        asyncio.run(scenario())
    blocked_on_loop.clear()


def test_the_statement_is_named(pg_engine: Engine, blocked_on_loop: list[str]) -> None:
    async def checked_out_elsewhere() -> None:
        conn = await asyncio.to_thread(pg_engine.connect)
        try:
            conn.execute(text("SELECT 1 AS guarded_probe"))
        finally:
            await asyncio.to_thread(conn.close)

    with pytest.raises(BlockingCallOnLoopError, match="SELECT 1 AS guarded_probe"):
        asyncio.run(checked_out_elsewhere())
    assert len(blocked_on_loop) == 1
    blocked_on_loop.clear()


def test_the_hot_path_on_the_loop_is_caught(pg_engine: Engine, blocked_on_loop: list[str]) -> None:
    agents = SqlAlchemyAgentRepository(pg_engine)

    async def scenario() -> None:
        agents.locate("on-the-loop")  # a hot statement on a driver connection

    with pytest.raises(BlockingCallOnLoopError):
        asyncio.run(scenario())
    assert blocked_on_loop
    blocked_on_loop.clear()


def test_the_same_call_off_the_loop_passes(pg_engine: Engine) -> None:
    async def scenario() -> int:
        return await asyncio.to_thread(select_one, pg_engine)

    assert asyncio.run(scenario()) == 1


def test_an_async_driver_on_the_loop_passes(postgres_url: str) -> None:
    url = postgres_url.replace("postgresql+psycopg://", "postgresql+psycopg_async://")

    async def scenario() -> int:
        engine = create_async_engine(url)
        forbid_blocking_calls_on_loop(engine.sync_engine)
        try:
            async with engine.connect() as conn:
                return int((await conn.execute(text("SELECT 1"))).scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(scenario()) == 1


def test_sqlite_runs_on_the_loop_as_designed(sqlite_url: str) -> None:
    engine = create_database_engine(sqlite_url)
    try:
        assert asyncio.run(on_the_loop(engine)) == 1
    finally:
        engine.dispose()
