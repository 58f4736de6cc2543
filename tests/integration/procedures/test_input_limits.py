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
from pydantic import ValidationError
from tests.integration.procedures.planning_api import Api, running_api

from crosswalk.server.app import build_router
from crosswalk.server.procedures._inputs import ApiInput
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


# --- NUL ---------------------------------------------------------------------------------

NUL_SHAPES: list[Any] = ["a\x00b", ["ok", "a\x00b"], {"k": "a\x00b"}, {"a\x00b": "v"}]


def every_field() -> list[tuple[str, str]]:
    """``(procedure, JSON field)`` for every field of every procedure's input."""
    found = []
    for procedure in ROUTER:
        model = procedure.input_model
        if model is not None:
            found += [(procedure.path, f.alias or name) for name, f in model.model_fields.items()]
    return sorted(found)


FIELDS = every_field()


def test_every_input_model_shares_the_checks() -> None:
    models = {p.path: p.input_model for p in ROUTER if p.input_model is not None}
    assert {path for path, model in models.items() if not issubclass(model, ApiInput)} == set()
    assert len(FIELDS) > 250


@pytest.mark.parametrize(("path", "field"), FIELDS)
def test_every_field_refuses_nul_wherever_it_hides(path: str, field: str) -> None:
    model = ROUTER.procedures[path].input_model
    assert model is not None
    for value in NUL_SHAPES:
        with pytest.raises(ValidationError) as refused:
            model.model_validate({field: value})
        [error] = [e for e in refused.value.errors() if e["loc"][0] == field]
        assert (error["loc"], error["type"]) == ((field,), "nul_character"), value
        assert "NUL" in error["msg"]


def test_over_the_wire_on_postgresql_no_field_gives_a_500(postgres_url: str, tmp_path: Any) -> None:
    """Every field of every procedure, with NUL, on the database that cannot store it."""
    with running_api(postgres_url, tmp_path) as api:
        refused = {}
        for path, field in FIELDS:
            response = call(api, path, json.dumps({field: "a\x00b"}))
            [error] = errors_of(response)
            refused[(path, field)] = (error["data"]["code"], error["message"])
    wrong = {k: v for k, v in refused.items() if v[0] != "BAD_REQUEST" or "NUL" not in v[1]}
    assert wrong == {}
    assert "question: must not contain the NUL" in refused[("conversation.ask", "question")][1]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("initiative.create", {"name": "plan\x00"}, "name"),
        ("agent.create", {"name": "x\x00y"}, "name"),
        ("message.create", {"content": "hi\x00", "recipientType": "user"}, "content"),
        ("initiative.create", {"name": "i", "branch": "main\x00"}, "branch"),
    ],
)
def test_nothing_with_nul_is_stored_on_either_database(
    api: Api, path: str, payload: dict[str, Any], field: str
) -> None:
    error = api.fails("mutation", path, payload)
    assert (error.code, error.http_status) == ("BAD_REQUEST", 400)
    assert error.message.startswith(f"{field}: must not contain the NUL character")
    assert api.query("initiative.list", {})["items"] == []
    assert api.query("agent.list", {})["items"] == []


def test_a_question_with_nul_is_refused_on_either_database(api: Api) -> None:
    alice = api.mutation("agent.create", {"name": "alice"})["id"]
    bob = api.mutation("agent.create", {"name": "bob"})["id"]
    payload = {"fromAgentId": alice, "toAgentId": bob, "question": "port?\x00\x1b[2J"}
    error = api.fails("mutation", "conversation.ask", payload)
    assert (error.code, error.message.split(":")[0]) == ("BAD_REQUEST", "question")
    assert api.query("conversation.list", {})["items"] == []
    page = api.mutation(
        "page.root", {"initiativeId": api.mutation("initiative.create", {"name": "i"})["id"]}
    )
    doc = {"type": "doc", "content": [{"type": "text", "text": "a\x00"}]}
    error = api.fails("mutation", "page.update", {"id": page["id"], "content": doc})
    assert error.message.startswith("content: must not contain the NUL character")
    assert "content[0].text" in error.message
