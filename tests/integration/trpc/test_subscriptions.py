"""Subscriptions over SSE, byte for byte as tRPC's httpSubscriptionLink expects them."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import pytest
from starlette.types import Message
from tests.integration.trpc.trpc_demo import AsgiCall, Client, Ctx, Probe, data_of, sse_events

from crosswalk.server.trpc import TrpcEndpoint

CONNECTED = "event: connected\ndata: {}\n\n\n"
RETURN = "event: return\ndata: \n\n\n"


def q(value: Any) -> str:
    return quote(json.dumps(value), safe="")


def test_tracked_values_then_return(client: Client) -> None:
    response = client.get(f"/trpc/demo.count?input={q({'upto': 3})}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["connection"] == "keep-alive"
    assert response.headers["vary"] == "trpc-accept, accept"
    assert response.text == (
        CONNECTED
        + 'data: {"n":1}\nid: 1\n\n\n'
        + 'data: {"n":2}\nid: 2\n\n\n'
        + 'data: {"n":3}\nid: 3\n\n\n'
        + RETURN
    )


def test_last_event_id_header_is_merged_into_input(client: Client) -> None:
    response = client.get(
        f"/trpc/demo.count?input={q({'upto': 4})}&lastEventId=1",
        headers={"last-event-id": "2"},
    )
    events = sse_events(response.text)
    assert [e.get("id") for e in events] == [None, "3", "4", None]


def test_last_event_id_query_params_are_fallbacks(client: Client) -> None:
    for name in ("lastEventId", "Last-Event-Id"):
        response = client.get(f"/trpc/demo.count?input={q({'upto': 3})}&{name}=2")
        assert [e.get("id") for e in sse_events(response.text)] == [None, "3", None]


def test_last_event_id_becomes_the_input_when_none_was_sent(
    endpoint: TrpcEndpoint[Ctx], probe: Probe
) -> None:
    async def scenario() -> None:
        call = AsgiCall(
            endpoint, b"/demo.forever", headers=[(b"last-event-id", b"7")], query=b"input=%7B%7D"
        )
        # {} lacks the required tag: validation error, proving the merge kept the object
        await call.run()
        assert "serialized-error" in call.text
        call = AsgiCall(
            endpoint,
            b"/demo.forever",
            headers=[(b"last-event-id", b"7"), (b"authorization", b"Bearer good")],
            query=b"input=" + q({"tag": "t"}).encode(),
        )
        task = asyncio.ensure_future(call.run())
        await call.wait_for("id: 1")
        call.disconnect.set()
        await task

    asyncio.run(scenario())
    assert probe.inputs == ["7"]


def test_untracked_value_after_tracked_restores_the_id(client: Client) -> None:
    response = client.get("/trpc/demo.plain")
    assert response.text == (
        CONNECTED
        + 'data: "tracked"\nid: t1\n\n\n'
        + 'data: "untracked"\nid: \n\n\n'
        + "event: restore-id\ndata: \nid: t1\n\n\n"
        + RETURN
    )


def test_input_validation_error_is_a_serialized_error_with_status_200(client: Client) -> None:
    response = client.get(f"/trpc/demo.count?input={q({'upto': 'many'})}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = sse_events(response.text)
    assert events[0] == {"event": "connected", "data": "{}"}
    assert events[1]["event"] == "serialized-error"
    assert data_of(events[1]) == {
        "message": "upto: Input should be a valid integer, unable to parse string as an integer",
        "code": -32600,
        "data": {"code": "BAD_REQUEST", "httpStatus": 400, "path": "demo.count"},
    }
    assert len(events) == 2


def test_method_error_is_a_serialized_error_with_allow(client: Client) -> None:
    response = client.post("/trpc/demo.count", json={"upto": 1})
    assert response.status_code == 200
    assert response.headers["allow"] == "GET"
    error = data_of(sse_events(response.text)[1])
    assert error["code"] == -32005
    assert (
        error["message"]
        == 'Unsupported POST-request to subscription procedure at path "demo.count"'
    )


def test_context_error_is_a_serialized_error(anon: Client) -> None:
    response = anon.get(f"/trpc/demo.count?input={q({'upto': 1})}")
    assert response.status_code == 200
    error = data_of(sse_events(response.text)[1])
    assert error["data"] == {"code": "UNAUTHORIZED", "httpStatus": 401, "path": "demo.count"}


def test_connection_params_authenticate_subscriptions(anon: Client) -> None:
    response = anon.get(
        f"/trpc/demo.count?input={q({'upto': 1})}&connectionParams={q({'token': 'good'})}"
    )
    assert response.text.endswith("id: 1\n\n\n" + RETURN)


def test_domain_error_mid_stream_ends_it(client: Client) -> None:
    response = client.get(f"/trpc/demo.boom?input={q({'kind': 'conflict'})}")
    events = sse_events(response.text)
    assert [e.get("event") for e in events] == ["connected", None, "serialized-error"]
    assert data_of(events[1]) == "before"
    assert data_of(events[2]) == {
        "message": "conversation 'c1' is already answered",
        "code": -32009,
        "data": {"code": "CONFLICT", "httpStatus": 409, "path": "demo.boom"},
    }


def test_unexpected_error_mid_stream_is_internal_so_the_client_reconnects(
    client: Client,
) -> None:
    response = client.get(f"/trpc/demo.boom?input={q({'kind': 'plain'})}")
    error = data_of(sse_events(response.text)[-1])
    assert error == {
        "message": "Internal server error",
        "code": -32603,
        "data": {"code": "INTERNAL_SERVER_ERROR", "httpStatus": 500, "path": "demo.boom"},
    }
    assert "secret" not in response.text


def test_handler_not_returning_an_iterator_is_internal(client: Client) -> None:
    error = data_of(sse_events(client.get("/trpc/demo.notagen").text)[-1])
    assert error["message"] == (
        "Subscription demo.notagen did not return an observable or a AsyncGenerator"
    )
    assert error["code"] == -32603


def test_handler_may_be_a_coroutine_returning_an_async_iterator(
    client: Client, probe: Probe
) -> None:
    response = client.get("/trpc/demo.countdown")
    assert response.text == CONNECTED + "data: 1\n\n\n" + "data: 0\n\n\n" + RETURN
    assert probe.closed == ["countdown"]


def test_iterator_is_closed_even_if_the_response_cannot_start(
    endpoint: TrpcEndpoint[Ctx], probe: Probe
) -> None:
    class Broken(AsgiCall):
        async def send(self, message: Message) -> None:
            raise OSError("connection reset")

    call = Broken(endpoint, b"/demo.countdown")
    with pytest.raises(OSError, match="connection reset"):
        asyncio.run(call.run())
    assert probe.closed == ["countdown"]


def test_pings_while_the_generator_is_quiet(client: Client) -> None:
    response = client.get(f"/trpc/demo.slowstart?input={q({'ms': 300})}")
    events = sse_events(response.text)
    assert events[0]["event"] == "connected"
    assert events[-2:] == [{"data": '"late"'}, {"event": "return", "data": ""}]
    pings = events[1:-2]
    assert len(pings) >= 2
    assert all(e == {"event": "ping", "data": ""} for e in pings)


def test_unknown_subscription_path_is_plain_json_404(client: Client) -> None:
    response = client.get("/trpc/demo.nosuch")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"


def test_disconnect_closes_the_generator_promptly(
    endpoint: TrpcEndpoint[Ctx], probe: Probe
) -> None:
    async def scenario() -> AsgiCall:
        call = AsgiCall(endpoint, b"/demo.forever", query=b"input=" + q({"tag": "a"}).encode())
        task = asyncio.ensure_future(call.run())
        await call.wait_for("id: 1")
        assert probe.closed == []
        call.disconnect.set()
        async with asyncio.timeout(1):
            await task
        leftovers = asyncio.all_tasks() - {asyncio.current_task()}
        assert leftovers == set()
        return call

    call = asyncio.run(scenario())
    assert probe.closed == ["a"]
    assert RETURN not in call.text
    assert not call.finished  # nobody to finish the response for


def test_close_ends_streams_without_return_and_refuses_new_ones(
    endpoint: TrpcEndpoint[Ctx], probe: Probe
) -> None:
    async def scenario() -> tuple[list[AsgiCall], AsgiCall]:
        calls = [
            AsgiCall(endpoint, b"/demo.forever", query=b"input=" + q({"tag": tag}).encode())
            for tag in ("x", "y")
        ]
        tasks = [asyncio.ensure_future(call.run()) for call in calls]
        for call in calls:
            await call.wait_for("id: 1")
        async with asyncio.timeout(1):
            await endpoint.close()
            await asyncio.gather(*tasks)
        late = AsgiCall(endpoint, b"/demo.forever", query=b"input=" + q({"tag": "z"}).encode())
        await late.run()
        return calls, late

    calls, late = asyncio.run(scenario())
    assert sorted(probe.closed) == ["x", "y"]
    assert probe.started == ["x", "y"]  # the late one never started
    for call, tag in zip(calls, ("x", "y"), strict=True):
        assert call.finished  # the response ended cleanly, with no return event
        assert call.text == CONNECTED + f'data: "{tag}"\nid: 1\n\n\n'
    assert late.status == 200
    events = sse_events(late.text)
    assert data_of(events[-1]) == {
        "message": "Server is shutting down",
        "code": -32603,  # a code the official client reconnects on
        "data": {"code": "SERVICE_UNAVAILABLE", "httpStatus": 503, "path": "demo.forever"},
    }


def test_queries_still_work_after_close(endpoint: TrpcEndpoint[Ctx], client: Client) -> None:
    asyncio.run(endpoint.close())
    assert client.get("/trpc/demo.nothing").json() == {"result": {"data": None}}


def test_endpoint_as_top_level_app_closes_streams_on_lifespan_shutdown(
    endpoint: TrpcEndpoint[Ctx], probe: Probe
) -> None:
    async def scenario() -> list[str]:
        messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        replies: list[str] = []
        stream = AsgiCall(endpoint, b"/demo.forever", query=b"input=" + q({"tag": "l"}).encode())
        task = asyncio.ensure_future(stream.run())
        await stream.wait_for("id: 1")

        async def receive() -> dict[str, Any]:
            return messages.pop(0)

        async def send(message: dict[str, Any]) -> None:
            replies.append(message["type"])

        await endpoint({"type": "lifespan"}, receive, send)  # type: ignore[arg-type]
        await task
        return replies

    assert asyncio.run(scenario()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert probe.closed == ["l"]
