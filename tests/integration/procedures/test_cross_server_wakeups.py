"""Two servers on one PostgreSQL database, in process: a long poll parked on server A
wakes when the change is committed through server B (its unit of work's events sent
with NOTIFY in the transaction, heard by A's listener), also after A's listening
connection was cut and came back (it then re-checks every waiter)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from crosswalk.db.pg_listen import (
    CHANNEL,
    MAX_PAYLOAD_BYTES,
    decode_event,
    encode_event,
    parse_payload,
    payloads,
)
from crosswalk.domain.enums import AgentStatus, ConversationStatus
from crosswalk.domain.events import (
    Action,
    AgentStatusChanged,
    EntityChanged,
    Event,
    QuestionAnswered,
    QuestionAsked,
    QuestionWithdrawn,
)
from crosswalk.domain.rows import Conversation, NewAgent
from crosswalk.ids import new_id
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.server.pg_changes import PostgresChangeRelay
from crosswalk.services.targets import AgentTarget

WAIT_MS = 20_000  # far longer than any test waits: a wake-up, not a timeout, returns


class Server:
    def __init__(self, app: CrosswalkApp, token: str) -> None:
        self.app = app
        self.headers = {"authorization": f"Bearer {token}"}

    @property
    def relay(self) -> PostgresChangeRelay:
        assert self.app.relay is not None
        return self.app.relay

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
            app.close()


def data(response: httpx.Response) -> Any:
    body = response.json()
    assert "result" in body, body
    return body["result"]["data"]


async def parked(server: Server, key: str) -> None:
    async with asyncio.timeout(10):
        while server.app.services.changes.waiting(key) == 0:
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
            before = a.relay.listener.reconnections
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
            assert a.relay.listener.reconnections > before

    asyncio.run(scenario())


def test_events_travel_as_ids_and_kinds_in_payloads_under_the_limit() -> None:
    events: list[Event] = [
        QuestionAnswered(f"{index:021d}", "a" * 21, "b" * 21) for index in range(300)
    ]
    events += [
        AgentStatusChanged("c" * 21, AgentStatus.RUNNING),
        EntityChanged("task", "d" * 21, Action.DELETED),
        QuestionWithdrawn("e" * 21, "a" * 21, "b" * 21, "agent brave-otter (x) was deleted"),
    ]
    sent = payloads("origin-id", [encode_event(event) for event in events])
    assert len(sent) > 1
    assert all(len(payload.encode()) < MAX_PAYLOAD_BYTES for payload in sent)
    received = [decode_event(line) for payload in sent for line in parse_payload(payload)[1]]
    assert received == events
    assert {parse_payload(payload)[0] for payload in sent} == {"origin-id"}
    assert decode_event('{"type":"SomethingNewer","id":"x"}') is None


def test_an_answered_row_stays_on_the_server_that_answered() -> None:
    now = datetime.now(UTC)
    row = Conversation(
        "f" * 21, "a" * 21, "b" * 21, None, None, None, "the question", "the secret answer",
        ConversationStatus.ANSWERED, None, None, now, now,
    )  # fmt: skip
    line = encode_event(QuestionAnswered(row.id, row.from_agent_id, row.to_agent_id, row))
    assert "secret" not in line and "question" not in line  # ids and kinds only
    received = decode_event(line)
    assert isinstance(received, QuestionAnswered) and received.conversation is None
    assert received.conversation_id == row.id


def test_only_committed_events_reach_the_other_server(servers: tuple[Server, Server]) -> None:
    """NOTIFY is sent inside the unit of work's transaction: a rolled-back unit of work
    tells the other servers nothing, the next committed one arrives first."""
    a, b = servers

    class RefusedError(Exception):
        pass

    def roll_back_then_commit() -> None:  # on a thread, as a server runs units of work
        with contextlib.suppress(RefusedError), b.app.services.unit_of_work() as uow:
            uow.record(QuestionAsked("rolled-back-000000000", "x", "y"))
            raise RefusedError
        with b.app.services.unit_of_work() as uow:
            uow.record(QuestionAsked("committed-00000000000", "x", "y"))

    async def scenario() -> None:
        async with a.app.services.changes.follow() as followed:
            await asyncio.to_thread(roll_back_then_commit)
            first = await asyncio.wait_for(anext(followed), 10)
            assert first == QuestionAsked("committed-00000000000", "x", "y")

    asyncio.run(scenario())


def _ask(
    server: Server,
    barrier: threading.Barrier,
    asked: list[Any],
    asker_id: str,
    answerer_id: str,
    id: str,
) -> None:
    barrier.wait()
    target = AgentTarget(answerer_id)
    asked.append(server.app.services.conversations.ask(asker_id, "again?", target, id=id))


def test_a_retried_ask_racing_itself_on_two_servers_asks_once(
    servers: tuple[Server, Server], postgres_url: str
) -> None:
    """The service's whole ask (its unit of work) on both servers at once, same id."""
    a, b = servers
    asker = a.app.services.agents.register(NewAgent(worktree_id="/a"))[0]
    answerer = a.app.services.agents.register(NewAgent(worktree_id="/b"))[0]
    for _ in range(10):
        id = new_id()
        barrier = threading.Barrier(2)
        asked: list[Any] = []

        threads = [
            threading.Thread(target=_ask, args=(server, barrier, asked, asker.id, answerer.id, id))
            for server in (a, b)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(asked) == 2 and asked[0] == asked[1], asked
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT count(*) FROM conversations").fetchone()
    assert row is not None and row[0] == 10


def test_a_token_kept_by_a_is_refused_once_b_deletes_its_agent(
    servers: tuple[Server, Server],
) -> None:
    """Server A keeps the agents its tokens found; B's deletion reaches A as an event
    (NOTIFY), and from then on A refuses the token."""
    a, b = servers

    async def scenario() -> None:
        async with a.client() as on_a, b.client() as on_b:
            agent = data(await on_b.post("/trpc/agent.create", json={"name": "leaving"}))
            as_agent = {"authorization": f"Bearer {agent['token']}"}
            for _ in range(2):
                seen = await on_a.get("/trpc/agent.list", headers=as_agent)
                assert seen.status_code == 200, seen.text
            assert len(a.app.services.authenticator.cache) == 1

            await on_b.post("/trpc/agent.delete", json={"id": agent["id"]})

            async with asyncio.timeout(10):  # the NOTIFY's way from B to A
                while (await on_a.get("/trpc/agent.list", headers=as_agent)).status_code != 401:
                    await asyncio.sleep(0.005)

    asyncio.run(scenario())
