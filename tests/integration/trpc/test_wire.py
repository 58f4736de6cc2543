"""The tRPC 11 HTTP wire (docs/wire.md), rule by rule, in process."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from tests.integration.trpc.trpc_demo import (
    FAILURES,
    AsgiCall,
    Client,
    Ctx,
    Probe,
    build_router,
    make_context,
)

from crosswalk.server.trpc import TrpcEndpoint, error_code_for
from crosswalk.server.trpc.request import DRAIN_LIMIT_BYTES, MAX_INPUT_DEPTH

JSON_HEADERS = {"content-type": "application/json", "vary": "trpc-accept, accept"}


def q(value: Any) -> str:
    return quote(json.dumps(value), safe="")


def error(message: str, key: str, code: int, status: int, path: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"code": key, "httpStatus": status}
    if path is not None:
        data["path"] = path
    return {"error": {"message": message, "code": code, "data": data}}


def assert_json_headers(response: Any) -> None:
    for name, value in JSON_HEADERS.items():
        assert response.headers[name] == value


# --- queries, mutations and envelopes ------------------------------------------------


def test_query_returns_result_envelope_compactly(client: Client) -> None:
    response = client.get(f"/trpc/demo.hello?input={q({'name': 'zoë'})}")
    assert response.status_code == 200
    assert_json_headers(response)
    # compact, UTF-8, no ASCII escaping: what JSON.stringify sends
    assert (
        response.content == '{"result":{"data":{"greeting":"hello zoë","user":"admin"}}}'.encode()
    )


def test_none_result_is_data_null(client: Client, probe: Probe) -> None:
    response = client.get("/trpc/demo.nothing")
    assert response.json() == {"result": {"data": None}}
    assert probe.inputs == [None]


def test_procedure_without_input_ignores_whatever_input_is_sent(
    client: Client, probe: Probe
) -> None:
    response = client.get("/trpc/demo.nothing?input=%7Bnot-json")
    assert response.status_code == 200
    assert probe.inputs == [None]


def test_pydantic_model_results_are_serialized(client: Client) -> None:
    response = client.get(f"/trpc/demo.model?input={q({'name': 'x'})}")
    assert response.json() == {"result": {"data": {"name": "x"}}}


def test_mutation_takes_json_body(client: Client) -> None:
    response = client.post("/trpc/demo.add", json={"a": 2, "b": 3})
    assert response.status_code == 200
    assert_json_headers(response)
    assert response.json() == {"result": {"data": {"sum": 5}}}


def test_mutation_with_empty_body_has_no_input(client: Client) -> None:
    headers = {"content-type": "application/json"}
    assert client.post("/trpc/demo.touch", headers=headers).json() == {
        "result": {"data": "touched"}
    }
    response = client.post("/trpc/demo.add", headers=headers)
    assert response.status_code == 400
    assert response.json() == error(
        "input: Input should be a valid dictionary or instance of AddInput",
        "BAD_REQUEST",
        -32600,
        400,
        "demo.add",
    )


def test_absent_query_input_fails_validation_of_a_model(client: Client) -> None:
    response = client.get("/trpc/demo.hello")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("input: ")


def test_content_type_with_parameters_and_odd_case_is_json(client: Client) -> None:
    response = client.post(
        "/trpc/demo.add",
        content=b'{"a":1,"b":1}',
        headers={"content-type": "Application/JSON; charset=utf-8"},
    )
    assert response.json() == {"result": {"data": {"sum": 2}}}


def test_validation_error_names_field_and_problem(client: Client) -> None:
    response = client.get(f"/trpc/demo.hello?input={q({'name': 'x' * 11})}")
    assert response.status_code == 400
    assert response.json() == error(
        "name: String should have at most 10 characters",
        "BAD_REQUEST",
        -32600,
        400,
        "demo.hello",
    )


def test_several_validation_errors_are_joined(client: Client) -> None:
    response = client.post("/trpc/demo.add", json={"a": "x"})
    assert response.json()["error"]["message"] == (
        "a: Input should be a valid integer, unable to parse string as an integer; "
        "b: Field required"
    )


def test_error_envelope_is_byte_exact(client: Client) -> None:
    response = client.get("/trpc/nope")
    assert response.status_code == 404
    assert_json_headers(response)
    assert response.content == (
        b'{"error":{"message":"No procedure found on path \\"nope\\"","code":-32004,'
        b'"data":{"code":"NOT_FOUND","httpStatus":404,"path":"nope"}}}'
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("%7Bname", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("%7B%22name%22%3ANaN%7D", "Unexpected token 'NaN', not valid JSON"),
    ],
)
def test_malformed_json_input_is_bad_request_with_parse_message(
    client: Client, raw: str, message: str
) -> None:
    response = client.get(f"/trpc/demo.hello?input={raw}")
    assert response.status_code == 400
    assert response.json() == error(message, "BAD_REQUEST", -32600, 400, "demo.hello")


def test_malformed_json_body_is_bad_request(client: Client) -> None:
    response = client.post(
        "/trpc/demo.add", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["data"] == {
        "code": "BAD_REQUEST",
        "httpStatus": 400,
        "path": "demo.add",
    }
    assert "line 1 column 2" in response.json()["error"]["message"]


# --- nesting depth -------------------------------------------------------------------------


def nested(depth: int, inner: Any = 1) -> str:
    """JSON text of ``depth`` arrays, one inside the other, around ``inner``."""
    return "[" * depth + json.dumps(inner) + "]" * depth


TOO_DEEP = (
    f"input is nested deeper than {MAX_INPUT_DEPTH} levels of arrays and objects, "
    "the limit; send a flatter input"
)


@pytest.fixture
def roomy(probe: Probe) -> Client:
    """The demo endpoint with the default body limit (1 MiB)."""
    endpoint = TrpcEndpoint(build_router(probe), make_context(probe))
    return Client(
        Starlette(routes=[Mount("/trpc", app=endpoint)]), {"authorization": "Bearer good"}
    )


def test_a_body_of_fifty_thousand_nested_arrays_is_bad_request(roomy: Client) -> None:
    body = nested(50_000).encode()
    assert len(body) > 100_000
    response = roomy.post(
        "/trpc/demo.add", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == error(TOO_DEEP, "BAD_REQUEST", -32600, 400, "demo.add")


@pytest.mark.parametrize("depth", [MAX_INPUT_DEPTH + 1, 500, 2_000])
def test_a_query_input_nested_too_deep_is_bad_request(client: Client, depth: int) -> None:
    deep = '{"name":' * depth + '"x"' + "}" * depth
    response = client.get(f"/trpc/demo.hello?input={quote(deep, safe='')}")
    assert response.status_code == 400
    assert response.json() == error(TOO_DEEP, "BAD_REQUEST", -32600, 400, "demo.hello")


def test_the_limit_itself_is_allowed_and_brackets_in_strings_do_not_count(
    client: Client,
) -> None:
    at_limit = json.loads(nested(MAX_INPUT_DEPTH - 1, {"name": "x"}))
    response = client.get(f"/trpc/demo.hello?input={q(at_limit)}")
    assert response.status_code == 400
    assert "nested deeper" not in response.json()["error"]["message"]  # the model refuses it
    response = client.get(f"/trpc/demo.hello?input={q({'name': '[' * 9})}")
    assert response.status_code == 200
    response = client.post("/trpc/demo.add", json={"a": 1, "b": 2, "c": ["[{" * 100]})
    assert response.json() == {"result": {"data": {"sum": 3}}}


def test_in_a_batch_only_the_call_with_the_deep_input_fails(client: Client, roomy: Client) -> None:
    deep = json.loads(nested(MAX_INPUT_DEPTH + 1))
    response = client.post(
        "/trpc/demo.add,demo.add?batch=1", json={"0": deep, "1": {"a": 1, "b": 2}}
    )
    assert response.status_code == 207
    assert response.json() == [
        error(TOO_DEEP, "BAD_REQUEST", -32600, 400, "demo.add"),
        {"result": {"data": {"sum": 3}}},
    ]
    body = '{"0":' + nested(50_000) + "}"
    response = roomy.post(
        "/trpc/demo.add,demo.touch?batch=1",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 207
    assert response.json() == [
        error(TOO_DEEP, "BAD_REQUEST", -32600, 400, "demo.add"),
        {"result": {"data": "touched"}},
    ]


def test_deep_connection_params_are_a_parse_error(client: Client) -> None:
    raw = quote('{"a":' + nested(2_000) + "}", safe="")
    response = client.get(f"/trpc/demo.whoami?connectionParams={raw}")
    assert response.status_code == 400
    assert response.json() == error(
        "Invalid connection params shape", "PARSE_ERROR", -32700, 400, None
    )


# --- domain errors and unexpected exceptions --------------------------------------------

DOMAIN_CASES = [
    ("invalid", "BAD_REQUEST", -32600, 400),
    ("cycle", "BAD_REQUEST", -32600, 400),
    ("not_found", "NOT_FOUND", -32004, 404),
    ("conflict", "CONFLICT", -32009, 409),
    ("precondition", "PRECONDITION_FAILED", -32012, 412),
    ("unauthorized", "UNAUTHORIZED", -32001, 401),
    ("forbidden", "FORBIDDEN", -32003, 403),
    ("too_large", "PAYLOAD_TOO_LARGE", -32013, 413),
]


@pytest.mark.parametrize(("kind", "key", "code", "status"), DOMAIN_CASES)
def test_domain_errors_map_to_trpc_codes(
    client: Client, kind: str, key: str, code: int, status: int
) -> None:
    response = client.get(f"/trpc/demo.fail?input={q({'kind': kind})}")
    assert response.status_code == status
    assert response.json() == error(str(FAILURES[kind]), key, code, status, "demo.fail")
    assert error_code_for(FAILURES[kind]) == key


def test_not_found_message_names_kind_and_id(client: Client) -> None:
    response = client.get(f"/trpc/demo.fail?input={q({'kind': 'not_found'})}")
    assert response.json()["error"]["message"] == "task 'x1' not found"


def test_unexpected_exception_is_internal_and_logged_not_leaked(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="crosswalk.server"):
        response = client.get(f"/trpc/demo.fail?input={q({'kind': 'plain'})}")
    assert response.status_code == 500
    assert response.json() == error(
        "Internal server error", "INTERNAL_SERVER_ERROR", -32603, 500, "demo.fail"
    )
    assert b"secret" not in response.content
    assert b"stack" not in response.content
    [record] = [r for r in caplog.records if r.name == "crosswalk.server"]
    assert record.exc_info is not None
    assert "secret database detail" in str(record.exc_info[1])
    assert "demo.fail" in record.getMessage()


def test_unserializable_result_is_internal_error(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="crosswalk.server"):
        response = client.get("/trpc/demo.unserializable")
    assert response.status_code == 500
    assert response.json()["error"]["data"]["code"] == "INTERNAL_SERVER_ERROR"


def test_debug_mode_adds_stack(probe: Probe) -> None:
    endpoint = TrpcEndpoint(build_router(probe), make_context(probe), debug=True)
    app = Starlette(routes=[Mount("/trpc", app=endpoint)])
    client = Client(app, {"authorization": "Bearer good"})
    response = client.get(f"/trpc/demo.fail?input={q({'kind': 'plain'})}")
    data = response.json()["error"]["data"]
    assert list(data) == ["code", "httpStatus", "stack", "path"]
    assert "RuntimeError: secret database detail" in data["stack"]


# --- context and authentication ---------------------------------------------------------


def test_public_procedure_needs_no_credentials(anon: Client, probe: Probe) -> None:
    response = anon.get("/trpc/health")
    assert response.json() == {"result": {"data": {"ok": True, "user": None}}}
    assert probe.contexts == [True]


def test_context_error_is_reported_by_each_call_with_its_path(anon: Client, probe: Probe) -> None:
    # As tRPC does: createContext's failure surfaces where each call reads ctx.
    response = anon.get(f"/trpc/demo.hello?input={q({'name': 'a'})}")
    assert response.status_code == 401
    assert response.json() == error(
        "missing or invalid token", "UNAUTHORIZED", -32001, 401, "demo.hello"
    )
    assert probe.contexts == [False]


def test_context_is_created_once_per_batch_and_public_only_if_all_are(
    anon: Client, probe: Probe
) -> None:
    response = anon.get("/trpc/health,demo.nothing?batch=1")
    assert probe.contexts == [False]
    assert response.status_code == 401
    assert [item["error"]["data"]["path"] for item in response.json()] == [
        "health",
        "demo.nothing",
    ]


def test_context_crash_is_internal_error(anon: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="crosswalk.server"):
        response = anon.get("/trpc/demo.nothing", headers={"authorization": "Bearer crash"})
    assert response.status_code == 500
    assert response.json()["error"]["message"] == "Internal server error"


def test_context_is_not_created_when_no_call_can_run(client: Client, probe: Probe) -> None:
    client.get("/trpc/nope,also.nope?batch=1")
    client.get("/trpc/demo.add")
    assert probe.contexts == []


def test_connection_params_reach_the_context(anon: Client) -> None:
    response = anon.get(f"/trpc/demo.whoami?connectionParams={q({'token': 'good'})}")
    assert response.json() == {
        "result": {"data": {"user": "admin", "connectionParams": {"token": "good"}}}
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("%5B1%5D", "Invalid connection params shape"),
        (q({"n": 1}), "Invalid connection params shape"),
        ("nope", "Not JSON-parsable query params"),
    ],
)
def test_bad_connection_params_are_request_level_parse_errors(
    client: Client, raw: str, message: str
) -> None:
    response = client.get(f"/trpc/demo.whoami?connectionParams={raw}")
    assert response.status_code == 400
    assert response.json() == error(message, "PARSE_ERROR", -32700, 400, None)


# --- batches ---------------------------------------------------------------------------


def test_query_batch_keys_inputs_by_index_and_missing_key_means_no_input(
    client: Client,
) -> None:
    inputs = {"0": {"name": "a"}, "2": {"name": "c"}}
    response = client.get(f"/trpc/demo.hello,demo.nothing,demo.hello?batch=1&input={q(inputs)}")
    assert response.status_code == 200
    assert_json_headers(response)
    assert response.json() == [
        {"result": {"data": {"greeting": "hello a", "user": "admin"}}},
        {"result": {"data": None}},
        {"result": {"data": {"greeting": "hello c", "user": "admin"}}},
    ]


def test_batch_of_one_is_still_an_array(client: Client) -> None:
    response = client.get(f"/trpc/demo.hello?batch=1&input={q({'0': {'name': 'a'}})}")
    assert response.json() == [{"result": {"data": {"greeting": "hello a", "user": "admin"}}}]


def test_mutation_batch_posts_the_input_object(client: Client) -> None:
    response = client.post(
        "/trpc/demo.add,demo.touch,demo.add?batch=1",
        json={"0": {"a": 1, "b": 2}, "2": {"a": 10, "b": 20}},
    )
    assert response.json() == [
        {"result": {"data": {"sum": 3}}},
        {"result": {"data": "touched"}},
        {"result": {"data": {"sum": 30}}},
    ]


def test_batch_with_mixed_statuses_is_207(client: Client) -> None:
    inputs = {"0": {"name": "a"}, "1": {"kind": "conflict"}}
    response = client.get(f"/trpc/demo.hello,demo.fail,nope?batch=1&input={q(inputs)}")
    assert response.status_code == 207
    body = response.json()
    assert body[0] == {"result": {"data": {"greeting": "hello a", "user": "admin"}}}
    assert body[1]["error"]["data"] == {"code": "CONFLICT", "httpStatus": 409, "path": "demo.fail"}
    assert body[2] == error('No procedure found on path "nope"', "NOT_FOUND", -32004, 404, "nope")


def test_batch_whose_calls_share_an_error_status_uses_it(client: Client) -> None:
    response = client.get("/trpc/nope,nada?batch=1")
    assert response.status_code == 404
    assert len(response.json()) == 2


def test_batch_input_that_is_not_an_object_fails_each_call_needing_input(
    client: Client,
) -> None:
    response = client.get(f"/trpc/demo.hello,demo.nothing?batch=1&input={q([1, 2])}")
    assert response.status_code == 207
    assert response.json() == [
        error(
            '"input" needs to be an object when doing a batch call',
            "BAD_REQUEST",
            -32600,
            400,
            "demo.hello",
        ),
        {"result": {"data": None}},
    ]


def test_batch_calls_run_concurrently(client: Client) -> None:
    started = time.monotonic()
    inputs = {str(i): {"ms": 300} for i in range(3)}
    response = client.get(f"/trpc/demo.sleep,demo.sleep,demo.sleep?batch=1&input={q(inputs)}")
    assert time.monotonic() - started < 0.8
    assert response.json() == [{"result": {"data": 300}}] * 3


def test_mixing_queries_and_mutations_is_a_request_level_error(client: Client) -> None:
    response = client.get("/trpc/demo.hello,nope,demo.add?batch=1")
    assert response.status_code == 400
    assert_json_headers(response)
    assert response.json() == error(
        "Cannot mix procedure types in call: query, mutation", "BAD_REQUEST", -32600, 400, None
    )


def test_mixing_queries_and_subscriptions_is_a_request_level_error(client: Client) -> None:
    response = client.get("/trpc/demo.count,demo.hello?batch=1")
    assert response.json()["error"]["message"] == (
        "Cannot mix procedure types in call: subscription, query"
    )


def test_subscriptions_cannot_be_batched(client: Client) -> None:
    response = client.get(f"/trpc/demo.count?batch=1&input={q({'0': {'upto': 1}})}")
    assert response.status_code == 400
    assert response.json() == [
        error("Cannot batch subscription calls", "BAD_REQUEST", -32600, 400, "demo.count")
    ]


def test_percent_encoded_comma_separates_batch_calls(client: Client) -> None:
    response = client.get("/trpc/demo.nothing%2Chealth?batch=1")
    assert response.json() == [
        {"result": {"data": None}},
        {"result": {"data": {"ok": True, "user": "admin"}}},
    ]


def test_streaming_accept_needs_a_batch(client: Client) -> None:
    response = client.get("/trpc/health", headers={"trpc-accept": "application/jsonl"})
    assert response.status_code == 400
    assert response.json() == error(
        "Streaming requests must be batched (you can do a batch of 1)",
        "BAD_REQUEST",
        -32600,
        400,
        None,
    )
    accept = client.get("/trpc/health", headers={"accept": "text/html, application/jsonl"})
    assert accept.status_code == 400


def test_streaming_batch_is_answered_as_a_plain_batch(client: Client) -> None:
    response = client.get("/trpc/health?batch=1", headers={"trpc-accept": "application/jsonl"})
    assert response.json() == [{"result": {"data": {"ok": True, "user": "admin"}}}]


# --- methods, paths, content types --------------------------------------------------------


def test_get_to_a_mutation_is_method_not_supported_with_allow(client: Client) -> None:
    response = client.get("/trpc/demo.add")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert_json_headers(response)
    assert response.json() == error(
        'Unsupported GET-request to mutation procedure at path "demo.add"',
        "METHOD_NOT_SUPPORTED",
        -32005,
        405,
        "demo.add",
    )


def test_post_to_a_query_is_method_not_supported_with_allow(client: Client) -> None:
    response = client.post("/trpc/demo.hello", json={"name": "a"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"]["message"] == (
        'Unsupported POST-request to query procedure at path "demo.hello"'
    )


def test_other_methods_are_method_not_supported(client: Client) -> None:
    response = client.put("/trpc/demo.add", json={"a": 1, "b": 1})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"]["message"] == (
        'Unsupported PUT-request to mutation procedure at path "demo.add"'
    )


def test_head_is_204_without_body(client: Client) -> None:
    response = client.head("/trpc/demo.hello")
    assert response.status_code == 204
    assert response.content == b""


def test_unknown_path_is_not_found_naming_it(client: Client) -> None:
    response = client.get("/trpc/conversation.nope")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == 'No procedure found on path "conversation.nope"'


def test_path_is_percent_decoded(client: Client) -> None:
    assert client.get("/trpc/demo%2Enothing").json() == {"result": {"data": None}}


def test_malformed_percent_escape_in_path_is_400(client: Client) -> None:
    response = client.get("/trpc/demo%zz")
    assert response.status_code == 400
    assert response.json() == error(
        'Invalid URL-encoding in path "demo%zz"', "BAD_REQUEST", -32600, 400, None
    )
    invalid_utf8 = client.get("/trpc/demo%C3%28")
    assert invalid_utf8.status_code == 400


def test_raw_path_is_read_below_any_mount_point(endpoint: TrpcEndpoint[Ctx]) -> None:
    call = AsgiCall(endpoint, b"/api/v1/trpc/demo%2Enothing", root_path="/api/v1/trpc")
    asyncio.run(call.run())
    assert call.status == 200
    assert json.loads(call.text) == {"result": {"data": None}}


def test_post_without_content_type_is_415(client: Client) -> None:
    response = client.post("/trpc/demo.add", content=b'{"a":1,"b":2}')
    assert response.status_code == 415
    assert_json_headers(response)
    assert response.json() == error(
        "Missing content-type header", "UNSUPPORTED_MEDIA_TYPE", -32015, 415, None
    )


def test_post_with_other_content_type_is_415(client: Client) -> None:
    response = client.post(
        "/trpc/demo.add", content=b'{"a":1,"b":2}', headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    # sic: tRPC's message has no closing quote
    assert response.json()["error"]["message"] == 'Unsupported content-type "text/plain'


def test_get_accepts_any_content_type(client: Client) -> None:
    for content_type in ("text/plain", "application/json"):
        response = client.get("/trpc/demo.nothing", headers={"content-type": content_type})
        assert response.status_code == 200


def test_get_with_form_data_is_method_not_supported(client: Client) -> None:
    response = client.get("/trpc/demo.nothing", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 405
    assert response.json() == error(
        "Only POST requests are supported for multipart/form-data requests",
        "METHOD_NOT_SUPPORTED",
        -32005,
        405,
        None,
    )


# --- body size ---------------------------------------------------------------------------


def test_body_over_limit_is_payload_too_large(client: Client) -> None:
    response = client.post("/trpc/demo.add", json={"a": 1, "b": 2, "pad": "x" * 2000})
    assert response.status_code == 413
    assert response.json() == error(
        "Request body is larger than 1024 bytes", "PAYLOAD_TOO_LARGE", -32013, 413, None
    )


def test_declared_content_length_over_the_drain_limit_is_refused_before_reading(
    endpoint: TrpcEndpoint[Ctx],
) -> None:
    too_big = str(DRAIN_LIMIT_BYTES + 1).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", too_big)]
    call = AsgiCall(endpoint, b"/demo.add", method="POST", headers=headers, chunks=[b"{}"])
    asyncio.run(call.run())
    assert call.status == 413
    assert call.receives == 0


def test_oversized_body_is_drained_then_refused(endpoint: TrpcEndpoint[Ctx]) -> None:
    """Reading the rest before answering 413 keeps the kernel from resetting the
    connection, which could destroy the response before the client reads it."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"3000")]
    chunks = [b"x" * 600] * 5
    call = AsgiCall(endpoint, b"/demo.add", method="POST", headers=headers, chunks=chunks)
    asyncio.run(call.run())
    assert call.status == 413
    assert call.receives == 5


def test_chunked_body_over_limit_is_drained_then_refused(endpoint: TrpcEndpoint[Ctx]) -> None:
    headers = [(b"content-type", b"application/json")]
    chunks = [b"x" * 600] * 5
    call = AsgiCall(endpoint, b"/demo.add", method="POST", headers=headers, chunks=chunks)
    asyncio.run(call.run())
    assert call.status == 413
    assert call.receives == 5


def test_client_leaving_during_the_body_gets_no_answer(endpoint: TrpcEndpoint[Ctx]) -> None:
    headers = [(b"content-type", b"application/json")]

    async def scenario() -> AsgiCall:
        call = AsgiCall(endpoint, b"/demo.add", method="POST", headers=headers, chunks=[b"{"])
        call.chunks = []  # the one chunk claims more_body, then the client is gone
        call.disconnect.set()
        await call.run()
        return call

    call = asyncio.run(scenario())
    assert call.sent == []


def test_within_limit_body_is_fine(client: Client) -> None:
    response = client.post("/trpc/demo.add", json={"a": 1, "b": 2, "pad": "x" * 900})
    assert response.json() == {"result": {"data": {"sum": 3}}}
