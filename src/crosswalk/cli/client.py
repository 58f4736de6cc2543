"""A synchronous tRPC client: the only client ``cw`` needs.

Why not httpx (or even ``http.client``): ``cw`` must start in a few tens of
milliseconds, and the wire is small (one JSON envelope per call, server-sent events for
subscriptions; see docs/wire.md), so a small HTTP/1.1 transport over ``socket``
(``crosswalk.cli.transport``) speaks it well enough.

One kept-alive connection serves every query and mutation of a command; if the server
closed it while idle, the request is replayed once on a fresh connection. Each
subscription gets its own connection, because an event stream occupies it until the end.
Errors are the ``ClientError`` family of ``crosswalk.cli.errors``, re-exported here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from crosswalk import __version__
from crosswalk.cli.errors import (
    ClientError,
    ConnectionLostError,
    RemoteError,
    RequestTimeoutError,
    UnreachableError,
)
from crosswalk.cli.sse import SseParser
from crosswalk.cli.transport import (
    BadResponseError,
    HostLookupError,
    HttpConnection,
    HttpResponse,
    ServerClosedError,
    quote,
    split_url,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ClientError",
    "ConnectionLostError",
    "RemoteError",
    "RequestTimeoutError",
    "TrpcClient",
    "UnreachableError",
]

# tRPC's JSON-RPC style numbers, for error shapes that lack `data.code` (-32603 is shared
# by three keys; INTERNAL_SERVER_ERROR is the one the official client assumes).
_KEY_BY_NUMBER = {
    -32700: "PARSE_ERROR",
    -32600: "BAD_REQUEST",
    -32001: "UNAUTHORIZED",
    -32003: "FORBIDDEN",
    -32004: "NOT_FOUND",
    -32005: "METHOD_NOT_SUPPORTED",
    -32008: "TIMEOUT",
    -32009: "CONFLICT",
    -32012: "PRECONDITION_FAILED",
    -32013: "PAYLOAD_TOO_LARGE",
    -32015: "UNSUPPORTED_MEDIA_TYPE",
    -32022: "UNPROCESSABLE_CONTENT",
    -32029: "TOO_MANY_REQUESTS",
    -32099: "CLIENT_CLOSED_REQUEST",
    -32603: "INTERNAL_SERVER_ERROR",
}
_KEY_BY_STATUS = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_SUPPORTED",
    408: "TIMEOUT",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_CONTENT",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
}
# Failures that mean "the server dropped this connection", as opposed to a timeout.
_DROPPED = (
    ServerClosedError,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)
_MAX_SSE_LINE = 8 * 1024 * 1024


def remote_error_from_shape(shape: Any, fallback_status: int) -> RemoteError:
    """Build a ``RemoteError`` from a tRPC error shape ``{message, code, data}``."""
    if not isinstance(shape, dict):
        return RemoteError("INVALID_RESPONSE", f"malformed error from server: {shape!r}", 0)
    message = shape.get("message")
    if not isinstance(message, str) or not message:
        message = "the server reported an error without a message"
    data = shape.get("data")
    data = data if isinstance(data, dict) else {}
    code = data.get("code")
    if not isinstance(code, str):
        number = shape.get("code")
        code = (
            _KEY_BY_NUMBER.get(number, "INTERNAL_SERVER_ERROR")
            if isinstance(number, int)
            else ("INTERNAL_SERVER_ERROR")
        )
    status = data.get("httpStatus")
    if not isinstance(status, int):
        status = fallback_status
    return RemoteError(code, message, status)


def _describe(exc: BaseException) -> str:
    """A short reason a person can act on, without Python class names where avoidable."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, HostLookupError):
        return f"unknown host ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError):
        return "timed out while connecting"
    if isinstance(exc, ServerClosedError):
        return "the server closed the connection without answering"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    return str(exc) or type(exc).__name__


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class TrpcClient:
    """tRPC over HTTP/1.1 for one server: ``TrpcClient("http://127.0.0.1:7878/trpc", token)``.

    ``timeout_s`` bounds the wait for each response; long polls pass a larger
    ``timeout_s`` per call. Connecting has its own, shorter bound (``connect_timeout_s``)
    because a server that does not accept a connection quickly is not there. With
    ``max_response_bytes`` a larger response is not read on (``UnreachableError``).
    """

    def __init__(
        self,
        url: str,
        token: str | None,
        timeout_s: float = 30.0,
        *,
        connect_timeout_s: float = 5.0,
        max_response_bytes: int | None = None,
    ) -> None:
        scheme, host, port, path = split_url(url)
        self.url = url
        self.timeout_s = timeout_s
        self._https = scheme == "https"
        self._host = host
        self._port = port or (443 if self._https else 80)
        self._base = path.rstrip("/")
        self._connect_timeout_s = min(connect_timeout_s, timeout_s)
        self._max_response_bytes = max_response_bytes
        self._headers = {"accept": "application/json", "user-agent": f"cw/{__version__}"}
        if token:
            self._headers["authorization"] = f"Bearer {token}"
        self._conn: HttpConnection | None = None

    # -- public API -------------------------------------------------------------------

    def query(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        """GET ``<base>/<path>?input=<json>``; return the procedure's output."""
        target = self._target(path, input)
        status, body = self._exchange("GET", target, None, {}, timeout_s)
        return self._decode(path, status, body)

    def mutation(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        """POST ``<base>/<path>`` with a JSON body; return the procedure's output."""
        body = b"" if input is None else _compact(input).encode()
        headers = {"content-type": "application/json"}
        status, data = self._exchange("POST", self._target(path), body, headers, timeout_s)
        return self._decode(path, status, data)

    def subscribe(
        self,
        path: str,
        input: Any = None,
        *,
        last_event_id: str | None = None,
        deadline: float | None = None,
    ) -> Iterator[tuple[str | None, Any]]:
        """Open an SSE subscription; yield ``(event id or None, value)`` until ``return``.

        ``last_event_id`` resumes after that tracked event (sent both in the input, as
        the official client does, and as ``Last-Event-ID``). ``deadline`` is a
        ``time.monotonic()`` instant: reaching it raises ``RequestTimeoutError``. A
        stream that breaks off raises ``ConnectionLostError``; a ``serialized-error``
        event raises ``RemoteError``. Nothing happens until the first ``next()``.
        """
        headers = {"accept": "text/event-stream", "cache-control": "no-cache"}
        if last_event_id is not None:
            input = {**(input or {}), "lastEventId": last_event_id}
            headers["last-event-id"] = last_event_id
        conn = self._open()
        try:
            try:
                conn.set_timeout(_until(deadline, self.timeout_s))
                response = conn.request(
                    "GET", self._target(path, input), {**self._headers, **headers}
                )
            except TimeoutError:
                raise RequestTimeoutError(
                    f"no response to subscription {path} within the time allowed"
                ) from None
            except (OSError, BadResponseError) as exc:
                raise UnreachableError(_describe(exc), request_sent=True) from None
            content_type = response.header("content-type") or ""
            if response.status != 200 or not content_type.startswith("text/event-stream"):
                self._decode(path, response.status, response.read())
                raise RemoteError(
                    "INVALID_RESPONSE",
                    f"expected an event stream for {path}, got {content_type or 'no content type'}",
                    response.status,
                )
            yield from self._events(path, conn, response, deadline)
        finally:
            conn.close()

    def close(self) -> None:
        """Close the kept-alive connection, if any."""
        self._discard()

    def __enter__(self) -> TrpcClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing ---------------------------------------------------------------------

    def _target(self, path: str, input: Any = None) -> str:
        target = f"{self._base}/{quote(path, safe='.,')}"
        if input is not None:
            target += "?input=" + quote(_compact(input), safe="")
        return target

    def _open(self) -> HttpConnection:
        conn = HttpConnection(
            self._host, self._port, tls=self._https, connect_timeout_s=self._connect_timeout_s
        )
        try:
            conn.connect()
        except OSError as exc:
            conn.close()
            raise UnreachableError(_describe(exc)) from None
        return conn

    def _discard(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _exchange(
        self,
        method: str,
        target: str,
        body: bytes | None,
        headers: dict[str, str],
        timeout_s: float | None,
    ) -> tuple[int, bytes]:
        """Send one request on the kept-alive connection; return ``(status, body)``."""
        read_timeout = self.timeout_s if timeout_s is None else timeout_s
        all_headers = {**self._headers, **headers}
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn if self._conn is not None else self._open()
            self._conn = conn
            try:
                conn.set_timeout(read_timeout)
                response = conn.request(method, target, all_headers, body)
                data = response.read(self._max_response_bytes)
            except TimeoutError:
                self._discard()
                raise RequestTimeoutError(
                    f"the server did not answer within {read_timeout:g} s"
                ) from None
            except _DROPPED as exc:
                self._discard()
                if reused and attempt == 1:
                    continue  # the idle connection was closed by the server: replay once
                raise UnreachableError(_describe(exc), request_sent=True) from None
            except (OSError, BadResponseError) as exc:
                self._discard()
                raise UnreachableError(_describe(exc), request_sent=True) from None
            if response.will_close:
                self._discard()
            return response.status, data
        raise AssertionError("unreachable")  # pragma: no cover

    def _decode(self, path: str, status: int, body: bytes) -> Any:
        """The ``data`` of a success envelope, or raise the error envelope's ``RemoteError``."""
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            if isinstance(payload.get("error"), dict):
                raise remote_error_from_shape(payload["error"], status)
            result = payload.get("result")
            if isinstance(result, dict):
                return result.get("data")
        snippet = body[:200].decode("utf-8", "replace").strip()
        detail = f": {snippet}" if snippet else ""
        raise RemoteError(
            _KEY_BY_STATUS.get(status, "INVALID_RESPONSE"),
            f"unexpected HTTP {status} answer to {path} from {self.url}{detail}; "
            "is CW_URL pointing at a crosswalk server's /trpc endpoint?",
            status,
        )

    def _events(
        self,
        path: str,
        conn: HttpConnection,
        response: HttpResponse,
        deadline: float | None,
    ) -> Iterator[tuple[str | None, Any]]:
        parser = SseParser()
        inactivity_s: float | None = None
        while True:
            if deadline is not None and time.monotonic() >= deadline:
                raise RequestTimeoutError(f"subscription {path} reached its deadline")
            conn.set_timeout(_until(deadline, inactivity_s))
            try:
                raw = response.readline(_MAX_SSE_LINE)
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline:
                    raise RequestTimeoutError(f"subscription {path} reached its deadline") from None
                raise ConnectionLostError(
                    f"no data on subscription {path} for {inactivity_s:g} s"
                ) from None
            except (OSError, BadResponseError) as exc:
                raise ConnectionLostError(
                    f"subscription {path} broke off: {_describe(exc)}"
                ) from None
            if not raw:
                raise ConnectionLostError(f"the server closed subscription {path}")
            event = parser.feed(raw.decode("utf-8", "replace"))
            if event is None or event.event == "ping":
                continue
            if event.event == "return":
                return
            try:
                value = json.loads(event.data) if event.data else None
            except ValueError:
                raise RemoteError(
                    "INVALID_RESPONSE", f"malformed event data on {path}: {event.data[:200]}", 200
                ) from None
            if event.event == "connected":
                ms = value.get("reconnectAfterInactivityMs") if isinstance(value, dict) else None
                if isinstance(ms, int | float) and ms > 0:
                    inactivity_s = ms / 1000
            elif event.event == "serialized-error":
                raise remote_error_from_shape(value, 200)
            elif event.event == "message":
                yield (event.id or None), value


def _until(deadline: float | None, cap_s: float | None) -> float | None:
    """Seconds to wait for the next read: up to ``deadline`` and at most ``cap_s``."""
    waits = [cap_s] if cap_s is not None else []
    if deadline is not None:
        waits.append(max(deadline - time.monotonic(), 0.001))
    return min(waits) if waits else None
