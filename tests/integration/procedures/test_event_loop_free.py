"""On PostgreSQL no query runs on the event loop: while one request's query waits on
a lock, another request's long poll still wakes and answers.

The slow query is made slow deterministically: a separate connection holds an
exclusive lock on ``projects`` so ``project.list`` waits on it. The question
is asked and the listener answered while that lock is still held; had the query run
on the loop, nothing else could run until the lock went away (released after a
bound, so a regression fails the assertions instead of hanging).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from crosswalk.server.app import CrosswalkApp, create_app

LOCK_BOUND_S = 15.0


@pytest.fixture
def app(postgres_url: str, tmp_path: Path) -> Iterator[CrosswalkApp]:
    app = create_app(postgres_url, admin_token_file=tmp_path / "admin-token")
    try:
        yield app
    finally:
        app.close()


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert "result" in body, body
    return body["result"]["data"]


async def waiting_on_a_lock(conninfo: str, timeout_s: float = 10.0) -> None:
    """Until some backend waits for a lock (the slow query has started)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        for _ in range(int(timeout_s / 0.02)):
            cursor = await conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )
            row = await cursor.fetchone()
            if row is not None and row[0] > 0:
                return
            await asyncio.sleep(0.02)
    raise AssertionError("the slow query never started waiting for the lock")


def test_a_query_waiting_on_a_lock_does_not_hold_up_a_wake_up(
    app: CrosswalkApp, postgres_url: str, tmp_path: Path
) -> None:
    admin = {"authorization": f"Bearer {(tmp_path / 'admin-token').read_text().strip()}"}
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    locker = psycopg.connect(conninfo)
    released = threading.Event()
    safety = threading.Timer(LOCK_BOUND_S, lambda: release())

    def take_the_lock() -> None:
        locker.execute("LOCK TABLE projects IN ACCESS EXCLUSIVE MODE")
        safety.start()

    def release() -> None:
        if not released.is_set():
            released.set()
            locker.rollback()

    finished: list[str] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app.asgi)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=admin, timeout=60
        ) as client:
            alice = data(await client.post("/trpc/agent.create", json={}))
            bob = data(await client.post("/trpc/agent.create", json={}))
            take_the_lock()

            async def slow() -> None:
                response = await client.get("/trpc/project.list")
                assert response.status_code == 200
                finished.append("slow query")

            async def listen() -> list[Any]:
                url = '/trpc/conversation.listen?input={"agentId":"%s","timeoutMs":30000}'
                found = data(await client.get(url % bob["id"]))
                finished.append("listen")
                return list(found)

            slow_task = asyncio.create_task(slow())
            await waiting_on_a_lock(conninfo)
            listen_task = asyncio.create_task(listen())
            await asyncio.sleep(0.05)  # parked
            asked = data(
                await client.post(
                    "/trpc/conversation.ask",
                    json={"fromAgentId": alice["id"], "toAgentId": bob["id"], "question": "?"},
                )
            )
            heard = await listen_task
            still_blocked = not slow_task.done()
            release()
            await slow_task
            assert [c["id"] for c in heard] == [asked["id"]]
            assert still_blocked

    try:
        asyncio.run(scenario())
    finally:
        safety.cancel()
        release()
        locker.close()
    assert finished == ["listen", "slow query"]
