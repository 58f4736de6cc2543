"""The tRPC client's wire handling that needs no socket: URLs, envelopes, event streams."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crosswalk.cli.client import (
    ConnectionLostError,
    RemoteError,
    TrpcClient,
    remote_error_from_shape,
)
from crosswalk.cli.transport import HttpConnection


def client() -> TrpcClient:
    return TrpcClient("http://127.0.0.1:7878/trpc/", "tok")


@pytest.mark.parametrize(
    "url", ["127.0.0.1:7878/trpc", "ftp://h/trpc", "http:///trpc", "http://h:x/"]
)
def test_rejects_unusable_urls(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        TrpcClient(url, None)


def test_query_target_is_path_plus_compact_encoded_input() -> None:
    target = client()._target("conversation.get", {"id": "a b&c", "n": "é"})
    parts = urlsplit(target)
    assert parts.path == "/trpc/conversation.get"
    assert json.loads(parse_qs(parts.query)["input"][0]) == {"id": "a b&c", "n": "é"}
    assert " " not in target
    assert "%7B%22id%22%3A%22a%20b%26c%22" in target  # compact JSON, fully escaped


def test_no_input_means_no_input_parameter() -> None:
    assert client()._target("health") == "/trpc/health"


def test_decode_success_envelopes() -> None:
    c = client()
    assert c._decode("p", 200, b'{"result":{"data":{"ok":true}}}') == {"ok": True}
    assert c._decode("p", 200, b'{"result":{}}') is None


def test_decode_error_envelope() -> None:
    body = json.dumps(
        {
            "error": {
                "message": "task 'x1' not found",
                "code": -32004,
                "data": {"code": "NOT_FOUND", "httpStatus": 404, "path": "task.get"},
            }
        }
    ).encode()
    with pytest.raises(RemoteError) as exc:
        client()._decode("task.get", 404, body)
    assert (exc.value.code, exc.value.message, exc.value.http_status) == (
        "NOT_FOUND",
        "task 'x1' not found",
        404,
    )


def test_error_shape_without_data_falls_back_to_the_number() -> None:
    error = remote_error_from_shape({"message": "slow down", "code": -32029}, 429)
    assert (error.code, error.http_status) == ("TOO_MANY_REQUESTS", 429)
    error = remote_error_from_shape({"code": "weird"}, 500)
    assert error.code == "INTERNAL_SERVER_ERROR"
    assert error.message


def test_a_non_trpc_answer_is_reported_with_its_status() -> None:
    with pytest.raises(RemoteError) as exc:
        client()._decode("conversation.get", 502, b"<html>Bad Gateway</html>")
    assert exc.value.http_status == 502
    assert "HTTP 502" in exc.value.message
    assert "Bad Gateway" in exc.value.message
    assert exc.value.code == "INVALID_RESPONSE"


class _Lines:
    """Just enough of ``HTTPResponse`` for the event reader: ``readline``."""

    def __init__(self, text: str) -> None:
        self._buffer = io.BytesIO(text.encode())

    def readline(self, limit: int = -1) -> bytes:
        return self._buffer.readline(limit)


def _stream(text: str) -> list[tuple[str | None, Any]]:
    unconnected = HttpConnection("127.0.0.1", 80, tls=False, connect_timeout_s=1)  # no I/O
    events = client()._events("conversation.onQuestion", unconnected, _Lines(text), None)  # type: ignore[arg-type]
    return list(events)


def test_stream_yields_tracked_values_and_stops_at_return() -> None:
    text = (
        'event: connected\ndata: {"reconnectAfterInactivityMs":5000}\n\n'
        'id: c1\ndata: {"id":"c1"}\n\n'
        "event: ping\ndata: \n\n"
        "data: 7\n\n"
        "event: return\ndata: \n\n"
        "data: 8\n\n"
    )
    assert _stream(text) == [("c1", {"id": "c1"}), (None, 7)]


def test_stream_error_event_raises_the_remote_error() -> None:
    shape = {"message": "nope", "code": -32003, "data": {"code": "FORBIDDEN", "httpStatus": 403}}
    text = f"event: connected\ndata: {{}}\n\nevent: serialized-error\ndata: {json.dumps(shape)}\n\n"
    with pytest.raises(RemoteError) as exc:
        _stream(text)
    assert (exc.value.code, exc.value.message) == ("FORBIDDEN", "nope")


def test_stream_that_breaks_off_raises_connection_lost() -> None:
    with pytest.raises(ConnectionLostError):
        _stream('event: connected\ndata: {}\n\nid: c1\ndata: {"id":"c1"}\n\n')


def test_malformed_event_data_is_reported() -> None:
    with pytest.raises(RemoteError, match="malformed event data"):
        _stream("data: {not json\n\n")
