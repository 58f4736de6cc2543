"""What no input may be, on every procedure of the router, over the wire: nested deeper
than ``MAX_INPUT_DEPTH`` (a query string, a body, a batch alike). Each is BAD_REQUEST
naming the rule, never a 500.

The checks run before any database is touched, so the router-wide tests share one app
on SQLite.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.integration.procedures.planning_api import Api, running_api

from crosswalk.server.app import build_router
from crosswalk.server.trpc.request import MAX_INPUT_DEPTH

ROUTER = build_router()
WITH_INPUT = sorted(p.path for p in ROUTER if p.input_model is not None)
WITHOUT_INPUT = sorted(p.path for p in ROUTER if p.input_model is None)
#: 50,000 arrays, one inside the other: 100 kB, under the body limit.
DEEPEST = "[" * 50_000 + "]" * 50_000
#: 2,000 of them in a query string: 12 kB once percent-encoded, under the 16 kB a
#: request head may take (and deeper than the JSON decoder's recursion limit).
DEEP_IN_A_QUERY = "[" * 2_000 + "]" * 2_000


@pytest.fixture(scope="module")
def app_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("input-limits")
    with running_api(f"sqlite:///{home / 'crosswalk.db'}", home) as api:
        yield api


def send(api: Api, method: str, url: str, **kwargs: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app.asgi)
        headers = {"authorization": f"Bearer {api.token}", "content-type": "application/json"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=headers, timeout=30
        ) as client:
            return await client.request(method, url, **kwargs)

    return asyncio.run(go())


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The error object(s) of a JSON response or of an SSE stream's error event."""
    if response.headers["content-type"].startswith("text/event-stream"):
        lines = response.text.splitlines()
        at = lines.index("event: serialized-error")
        return [json.loads(lines[at + 1].removeprefix("data: "))]
    body = response.json()
    items = body if isinstance(body, list) else [body]
    return [item["error"] for item in items]


def call(api: Api, path: str, raw_input: str, *, batch: bool = False) -> httpx.Response:
    procedure = ROUTER.procedures[path]
    suffix = "?batch=1" if batch else ""
    if procedure.kind == "mutation":
        return send(api, "POST", f"/trpc/{path}{suffix}", content=raw_input.encode())
    joiner = "&" if batch else "?"
    raw_input = raw_input.replace(DEEPEST, DEEP_IN_A_QUERY)
    return send(api, "GET", f"/trpc/{path}{suffix}{joiner}input={quote(raw_input, safe='')}")


def test_every_procedure_reads_its_input_through_the_checks() -> None:
    assert len(WITH_INPUT) > 80  # the router, not an empty list, is being checked


@pytest.mark.parametrize("path", WITH_INPUT)
def test_every_procedure_refuses_an_input_nested_too_deep(app_api: Api, path: str) -> None:
    response = call(app_api, path, DEEPEST)
    [error] = errors_of(response)
    assert error["data"]["code"] == "BAD_REQUEST", error
    assert f"nested deeper than {MAX_INPUT_DEPTH} levels" in error["message"]
    just_over = json.dumps({"x": json.loads("[" * MAX_INPUT_DEPTH + "]" * MAX_INPUT_DEPTH)})
    [error] = errors_of(call(app_api, path, just_over))
    assert f"nested deeper than {MAX_INPUT_DEPTH} levels" in error["message"]


@pytest.mark.parametrize(
    "path", [p for p in WITH_INPUT if ROUTER.procedures[p].kind != "subscription"]
)
def test_in_a_batch_too(app_api: Api, path: str) -> None:
    response = call(app_api, path, '{"0":' + DEEPEST + "}", batch=True)
    [error] = errors_of(response)
    assert error["data"]["code"] == "BAD_REQUEST", error
    assert f"nested deeper than {MAX_INPUT_DEPTH} levels" in error["message"]


@pytest.mark.parametrize("path", WITHOUT_INPUT)
def test_a_procedure_without_input_ignores_it_as_trpc_does(app_api: Api, path: str) -> None:
    response = call(app_api, path, DEEPEST)
    assert response.status_code < 500, response.text
