"""Two servers on one PostgreSQL database, in process: a long poll parked on server A
wakes when the change is committed through server B (LISTEN/NOTIFY), also after A's
listening connection was cut and came back (it then re-checks every waiter)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from crosswalk.db.pg_listen import CHANNEL, MAX_PAYLOAD_BYTES, parse_payload, payloads
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.server.pg_notifier import PostgresNotifier

WAIT_MS = 20_000  # far longer than any test waits: a wake-up, not a timeout, returns


class Server:
    def __init__(self, app: CrosswalkApp, token: str) -> None:
        self.app = app
        self.headers = {"authorization": f"Bearer {token}"}

    @property
    def notifier(self) -> PostgresNotifier:
        notifier = self.app.services.notifier
        assert isinstance(notifier, PostgresNotifier)
        return notifier

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app.asgi),
            base_url="http://127.0.0.1",
            headers=self.headers,
            timeout=60,
        )


@pytest.fixture
def servers(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    token_file = tmp_path / "admin-token"  # one deployment: one admin token
    apps = [create_app(postgres_url, admin_token_file=token_file) for _ in range(2)]
    token = token_file.read_text().strip()
    try:
        yield Server(apps[0], token), Server(apps[1], token)
    finally:
        for app in apps:
            app.services.notifier.close()
            app.services.offload.close()
            app.engine.dispose()


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert "result" in body, body
    return body["result"]["data"]


async def parked(server: Server, key: str) -> None:
    async with asyncio.timeout(10):
        while server.notifier.waiting(key) == 0:
            await asyncio.sleep(0.005)


def test_a_listen_on_a_wakes_for_a_question_asked_through_b(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers

    async def scenario() -> None:
        async with a.client() as on_a, b.client() as on_b:
            alice = data(await on_b.post("/trpc/agent.create", json={}))
            bob = data(await on_a.post("/trpc/agent.create", json={}))
            url = '/trpc/conversation.listen?input={"agentId":"%s","timeoutMs":%d}'
            listening = asyncio.create_task(on_a.get(url % (bob["id"], WAIT_MS)))
            await parked(a, f"question:{bob['id']}")
            started = time.monotonic()
            asked = data(
                await on_b.post(
                    "/trpc/conversation.ask",
                    json={"fromAgentId": alice["id"], "toAgentId": bob["id"], "question": "?"},
                )
            )
            heard = data(await listening)
            assert [c["id"] for c in heard] == [asked["id"]]
            assert time.monotonic() - started < WAIT_MS / 1000 / 2  # woken, not timed out

            # And back: the answer through A wakes the asker's wait on B.
            wait = '/trpc/conversation.waitForAnswer?input={"id":"%s","timeoutMs":%d}'
            waiting = asyncio.create_task(on_b.get(wait % (asked["id"], WAIT_MS)))
            await parked(b, f"answer:{asked['id']}")
            await on_a.post("/trpc/conversation.answer", json={"id": asked["id"], "answer": "!"})
            answered = data(await waiting)
            assert (answered["status"], answered["answer"]) == ("answered", "!")

    asyncio.run(scenario())


def test_after_its_listening_connection_is_cut_a_server_rechecks_its_waiters(
    servers: tuple[Server, Server], postgres_url: str
) -> None:
    a, b = servers
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")

    async def scenario() -> None:
        async with a.client() as on_a, b.client() as on_b:
            alice = data(await on_b.post("/trpc/agent.create", json={}))
            bob = data(await on_a.post("/trpc/agent.create", json={}))
            url = '/trpc/conversation.listen?input={"agentId":"%s","timeoutMs":%d}'
            listening = asyncio.create_task(on_a.get(url % (bob["id"], WAIT_MS)))
            await parked(a, f"question:{bob['id']}")

            # Cut every LISTEN connection, then ask through B while A's is down: the
            # NOTIFY goes nowhere, only A's re-check after reconnecting can find it.
            before = a.notifier.listener.reconnections
            started = time.monotonic()
            with psycopg.connect(conninfo, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE query = 'LISTEN {CHANNEL}'"
                )
            asked = data(
                await on_b.post(
                    "/trpc/conversation.ask",
                    json={"fromAgentId": alice["id"], "toAgentId": bob["id"], "question": "?"},
                )
            )
            heard = data(await listening)
            assert [c["id"] for c in heard] == [asked["id"]]
            assert time.monotonic() - started < WAIT_MS / 1000 / 2  # re-checked, not timed out
            assert a.notifier.listener.reconnections > before

    asyncio.run(scenario())


def test_payloads_carry_keys_not_bodies_and_stay_under_the_limit() -> None:
    keys = [f"answer:{index:021d}" for index in range(2000)]
    sent = payloads("origin-id", keys)
    assert len(sent) > 1
    assert all(len(payload.encode()) <= MAX_PAYLOAD_BYTES for payload in sent)
    received = [key for payload in sent for key in parse_payload(payload)[1]]
    assert received == keys
    assert {parse_payload(payload)[0] for payload in sent} == {"origin-id"}
