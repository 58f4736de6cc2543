"""The real app in process, called over the tRPC wire, for the planning procedure tests.

``Api`` speaks plain tRPC HTTP (GET for queries, POST for mutations) to the app
``create_app`` builds, through httpx's ASGI transport (Starlette's TestClient warns on
import, and warnings are errors here). The tier's ``api`` fixture (``conftest.py``)
runs it with ``running_api``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from crosswalk.runner import RunnerSettings
from crosswalk.server.app import CrosswalkApp, create_app


def next_millisecond() -> None:
    """Let the millisecond clock move. Lists order by ``createdAt``, then by id, so rows
    made within one millisecond come back in id order, not in the order they were made:
    a test that expects the latter waits between them."""
    time.sleep(0.002)


class ProcedureError(Exception):
    """The server answered with a tRPC error."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class Api:
    def __init__(self, app: CrosswalkApp, token: str) -> None:
        self.app = app
        self.token = token

    def as_token(self, token: str) -> Api:
        """The same app, called with another bearer token (an agent's)."""
        return Api(self.app, token)

    def query(self, path: str, payload: Any = None) -> Any:
        params = {} if payload is None else {"input": json.dumps(payload)}
        return self._call("GET", path, params=params)

    def mutation(self, path: str, payload: Any = None) -> Any:
        return self._call("POST", path, json=payload)

    def fails(self, kind: str, path: str, payload: Any = None) -> ProcedureError:
        """The error a call must fail with; the test fails if it succeeds."""
        try:
            result = self.query(path, payload) if kind == "query" else self.mutation(path, payload)
        except ProcedureError as exc:
            return exc
        raise AssertionError(f"{path} succeeded: {result!r}")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = asyncio.run(self._send(method, f"/trpc/{path}", **kwargs))
        body = response.json()
        if "error" in body:
            error = body["error"]
            raise ProcedureError(error["data"]["code"], error["message"], response.status_code)
        return body["result"]["data"]

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app.asgi)
        headers = {"authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=headers
        ) as client:
            return await client.request(method, url, **kwargs)


@contextmanager
def running_api(database_url: str, home: Path) -> Iterator[Api]:
    """The app on ``database_url`` with its admin token in ``home``; an admin ``Api``."""
    token_file = home / "admin-token"
    app = create_app(
        database_url,
        admin_token_file=token_file,
        runner_settings=RunnerSettings(data_dir=home / "data"),
    )
    try:
        yield Api(app, token_file.read_text().strip())
    finally:
        app.close()


def agent_api(api: Api, **fields: Any) -> Api:
    """An ``Api`` acting with a fresh agent's token."""
    agent = api.mutation("agent.create", fields)
    return api.as_token(agent["token"])
