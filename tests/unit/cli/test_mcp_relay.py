"""What ``cw mcp``'s relay adds to a message and reads from a response, without a server
(the relay end to end: tests/e2e/test_mcp_server.py)."""

from __future__ import annotations

import io
from typing import Any

from crosswalk.cli.mcp_relay import PROTOCOL_VERSION_KEY, Relay, _sse_messages


class Lines:
    """A response body read line by line, as ``HttpResponse.readline`` gives it."""

    def __init__(self, body: bytes) -> None:
        self._body = io.BytesIO(body)

    def readline(self) -> bytes:
        return self._body.readline()


def relay() -> Relay:
    return Relay("http://127.0.0.1:9/mcp", "tok", io.StringIO(), trpc_url="http://x/trpc")


def test_an_sse_stream_gives_each_events_data_as_one_message() -> None:
    body = (
        b": a comment\r\n"
        b'event: message\r\nid: 1\r\ndata: {"jsonrpc": "2.0",\r\n'
        b'data:  "id": 1, "result": {}}\r\n\r\n'
        b"retry: 1000\n\n"
        b"data: not json\n\n"
        b'data: {"jsonrpc": "2.0", "method": "notifications/progress"}\n'
    )
    messages: list[Any] = list(_sse_messages(Lines(body)))  # type: ignore[arg-type]
    assert messages == [
        {"jsonrpc": "2.0", "id": 1, "result": {}},
        {"jsonrpc": "2.0", "method": "notifications/progress"},
    ]


def test_a_per_request_envelope_gets_the_routing_headers_copied_from_its_body() -> None:
    call = {
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "ask", "arguments": {}, "_meta": {
            PROTOCOL_VERSION_KEY: "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }},
    }  # fmt: skip
    headers = relay()._headers(call)
    assert headers["authorization"] == "Bearer tok"
    assert headers["mcp-protocol-version"] == "2026-07-28"
    assert headers["mcp-method"] == "tools/call"
    assert headers["mcp-name"] == "ask"
    assert "mcp-session-id" not in headers


def test_after_initialize_requests_name_the_session_and_the_agreed_version() -> None:
    forwarding = relay()
    forwarding._session_id = "s-1"
    forwarding._note_version(
        {"id": 1, "result": {"protocolVersion": "2025-11-25", "serverInfo": {"name": "cw"}}}
    )
    headers = forwarding._headers({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert headers["mcp-session-id"] == "s-1"
    assert headers["mcp-protocol-version"] == "2025-11-25"
    assert "mcp-method" not in headers
