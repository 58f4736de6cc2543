"""The wait-cycle refusal under concurrency, on PostgreSQL (SQLite runs one write
transaction at a time, so there it holds by construction): agents asking each other
at the same moment, through one server or two sharing the database, never all get
through. Each try uses fresh agents, with or without an initiative."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crosswalk.server.app import CrosswalkApp, create_app

TRIES = 20


class Server:
    def __init__(self, app: CrosswalkApp, token: str) -> None:
        self.app = app
        self.token = token

    async def ask(self, asker: str, asked: str) -> httpx.Response:
        payload = {"fromAgentId": asker, "toAgentId": asked, "question": f"{asker} asks?"}
        transport = httpx.ASGITransport(app=self.app.asgi)
        headers = {"authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=headers, timeout=60
        ) as client:
            return await client.post("/trpc/conversation.ask", json=payload)

    def mutation(self, path: str, payload: Any) -> Any:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app.asgi)
            headers = {"authorization": f"Bearer {self.token}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1", headers=headers
            ) as client:
                return await client.post(f"/trpc/{path}", json=payload)

        return asyncio.run(go()).json()["result"]["data"]


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


def agents(server: Server, names: list[str], initiative: bool) -> list[str]:
    """Fresh agents; with ``initiative``, each works on a task of one initiative."""
    ids = []
    initiative_id = None
    if initiative:
        initiative_id = server.mutation("initiative.create", {"name": f"i-{names[0]}"})["id"]
    for name in names:
        fields: dict[str, Any] = {"name": name}
        if initiative_id is not None:
            task = server.mutation("task.create", {"name": name, "initiativeId": initiative_id})
            fields["taskId"] = task["id"]
        ids.append(server.mutation("agent.create", fields)["id"])
    return ids


def at_once(*asks: tuple[Server, str, str]) -> list[str]:
    """Send ``(server, asker, asked)`` asks together; ``asked`` or the error code each."""

    async def together() -> list[httpx.Response]:
        return list(await asyncio.gather(*(server.ask(x, y) for server, x, y in asks)))

    found = []
    for response in asyncio.run(together()):
        body = response.json()
        found.append("asked" if "result" in body else body["error"]["data"]["code"])
    return found


@pytest.mark.parametrize("initiative", [False, True], ids=["no initiative", "one initiative"])
@pytest.mark.parametrize("through", ["one server", "two servers"])
def test_two_agents_asking_each_other_at_once_never_both_get_through(
    servers: tuple[Server, Server], through: str, initiative: bool
) -> None:
    first, second = servers if through == "two servers" else (servers[0], servers[0])
    for attempt in range(TRIES):
        a, b = agents(first, [f"a{attempt}", f"b{attempt}"], initiative)

        result = at_once((first, a, b), (second, b, a))

        assert sorted(result) == ["CONFLICT", "asked"], f"try {attempt + 1}: {result}"


@pytest.mark.parametrize("through", ["one server", "two servers"])
def test_three_agents_closing_a_ring_at_once_never_all_get_through(
    servers: tuple[Server, Server], through: str
) -> None:
    """A -> B, B -> C and C -> A at the same moment: whichever commits last would
    close the ring A -> B -> C -> A, so one of them is refused."""
    first, second = servers if through == "two servers" else (servers[0], servers[0])
    for attempt in range(TRIES):
        a, b, c = agents(first, [f"a{attempt}", f"b{attempt}", f"c{attempt}"], False)

        result = at_once((first, a, b), (second, b, c), (first, c, a))

        assert sorted(result) == ["CONFLICT", "asked", "asked"], f"try {attempt + 1}: {result}"
