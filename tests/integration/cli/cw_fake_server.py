"""A tiny in-process tRPC server speaking the real envelopes, for testing ``cw``.

It implements just enough of ``conversation.*`` (with long polls and the
``onQuestion`` event stream) to exercise the client: keep-alive, reconnects across a
stop/restart on the same port, error envelopes, timeouts. Its state lives in a
``FakeStore`` that survives restarts, like a database would.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_STATUS = {
    "BAD_REQUEST": (-32600, 400),
    "UNAUTHORIZED": (-32001, 401),
    "FORBIDDEN": (-32003, 403),
    "NOT_FOUND": (-32004, 404),
    "CONFLICT": (-32009, 409),
    "INTERNAL_SERVER_ERROR": (-32603, 500),
}


class TrpcFaultError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def shape(self, path: str) -> dict[str, Any]:
        number, status = _STATUS[self.code]
        return {
            "message": self.message,
            "code": number,
            "data": {"code": self.code, "httpStatus": status, "path": path},
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FakeStore:
    """Conversations plus a log of every call, shared by all server incarnations."""

    def __init__(self, agents: tuple[str, ...] = ("asker", "helper")) -> None:
        self.cond = threading.Condition()
        self.agents = set(agents)
        self.conversations: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.subscription_inputs: list[tuple[Any, str | None]] = []
        self.required_token: str | None = None
        self.drop_streams = 0  # this many event streams break off after one event
        self.return_when_idle = False  # end event streams with `return` when caught up
        self.close_after_response = False  # close keep-alive connections silently
        self.chunked_streams = True  # event streams in chunked encoding, else until close
        self.connections = 0
        self._seq = 0

    def ask(self, data: dict[str, Any]) -> dict[str, Any]:
        with self.cond:
            cid = data["id"]
            if cid in self.conversations:  # idempotent retry
                return self.conversations[cid]
            target = data.get("toAgentId")
            if target is not None and target not in self.agents:
                raise TrpcFaultError("NOT_FOUND", f"agent '{target}' not found")
            if target is None:
                target = "helper"
            self._seq += 1
            now = _now()
            conversation = {
                "id": cid,
                "fromAgentId": data["fromAgentId"],
                "toAgentId": target,
                "initiativeId": None,
                "phaseId": data.get("phaseId"),
                "taskId": data.get("taskId"),
                "question": data["question"],
                "answer": None,
                "status": "pending",
                "createdAt": now,
                "updatedAt": now,
                "_seq": self._seq,
            }
            self.conversations[cid] = conversation
            self.cond.notify_all()
            return conversation

    def answer(self, cid: str, text: str) -> dict[str, Any]:
        with self.cond:
            conversation = self._get(cid)
            if conversation["status"] == "answered":
                raise TrpcFaultError("CONFLICT", f"conversation '{cid}' is already answered")
            conversation.update(answer=text, status="answered", updatedAt=_now())
            self.cond.notify_all()
            return conversation

    def _get(self, cid: str) -> dict[str, Any]:
        try:
            return self.conversations[cid]
        except KeyError:
            raise TrpcFaultError("NOT_FOUND", f"conversation '{cid}' not found") from None

    def pending_for(self, agent_id: str, after_id: str | None = None) -> list[dict[str, Any]]:
        found = [
            c
            for c in self.conversations.values()
            if c["toAgentId"] == agent_id and c["status"] == "pending"
        ]
        after = self.conversations[after_id]["_seq"] if after_id in self.conversations else -1
        return sorted((c for c in found if c["_seq"] > after), key=lambda c: c["_seq"])

    def wait_until(self, predicate: Any, timeout_s: float, server: FakeTrpcServer) -> Any:
        """Block until ``predicate()`` is truthy, the timeout, or the server stops."""
        end = time.monotonic() + timeout_s
        with self.cond:
            while True:
                if server.stopped:
                    raise ConnectionAbortedError("server stopped")
                value = predicate()
                left = end - time.monotonic()
                if value or left <= 0:
                    return value
                self.cond.wait(min(left, 0.05))

    def wait_for(self, predicate: Any, timeout_s: float = 5.0) -> Any:
        """For tests: block until ``predicate()`` holds (e.g. a question arrived)."""
        end = time.monotonic() + timeout_s
        with self.cond:
            while not (value := predicate()):
                if time.monotonic() > end:
                    raise AssertionError("condition not reached in time")
                self.cond.wait(0.02)
            return value

    def record(self, path: str, data: Any, headers: dict[str, str]) -> None:
        with self.cond:
            self.calls.append((path, data))
            self.headers.append(headers)
            self.cond.notify_all()

    def paths(self) -> list[str]:
        with self.cond:
            return [path for path, _ in self.calls]


def _public(conversation: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in conversation.items() if not k.startswith("_")}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def setup(self) -> None:
        super().setup()
        self.server.fake.track(self.connection)
        with self.server.fake.store.cond:
            self.server.fake.store.connections += 1

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        store = fake.store
        parts = urlsplit(self.path)
        if not parts.path.startswith("/trpc/"):
            body = b"<html>not here</html>"
            self.send_response(404)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        path = unquote(parts.path[len("/trpc/") :])
        if method == "POST":
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            data = json.loads(raw) if raw else None
        else:
            query = parse_qs(parts.query)
            data = json.loads(query["input"][0]) if "input" in query else None
        store.record(path, data, {k.lower(): v for k, v in self.headers.items()})
        try:
            if store.required_token and (
                self.headers.get("authorization") != f"Bearer {store.required_token}"
            ):
                raise TrpcFaultError("UNAUTHORIZED", "missing or invalid bearer token")
            if path == "conversation.onQuestion":
                self._stream_questions(data or {})
                return
            result = self._call(path, data or {})
        except TrpcFaultError as fault:
            self._send_json(_STATUS[fault.code][1], {"error": fault.shape(path)})
            return
        except ConnectionAbortedError:
            self._drop()
            return
        self._send_json(200, {"result": {"data": result}})

    def _call(self, path: str, data: dict[str, Any]) -> Any:
        fake = self.server.fake
        store = fake.store
        if path == "conversation.ask":
            return _public(store.ask(data))
        if path == "conversation.answer":
            return _public(store.answer(data["id"], data["answer"]))
        if path == "conversation.get":
            with store.cond:
                return _public(store._get(data["id"]))
        if path == "conversation.waitForAnswer":
            with store.cond:
                conversation = store._get(data["id"])
            store.wait_until(
                lambda: conversation["status"] == "answered",
                data.get("timeoutMs", 30000) / 1000,
                fake,
            )
            return _public(conversation)
        if path == "conversation.listen":
            found = store.wait_until(
                lambda: store.pending_for(data["agentId"]),
                data.get("timeoutMs", 30000) / 1000,
                fake,
            )
            return [_public(c) for c in found or []]
        if path == "conversation.pending":
            with store.cond:
                found = store.pending_for(data["agentId"], data.get("afterId"))
            return [_public(c) for c in found]
        if path == "conversation.list":
            with store.cond:
                items = [_public(c) for c in store.conversations.values()]
            limit = data.get("limit") or 50
            start = int(data.get("cursor") or 0)
            page = items[start : start + limit]
            more = start + limit < len(items)
            return {"items": page, "nextCursor": str(start + limit) if more else None}
        if path == "slow":
            time.sleep(data.get("seconds", 1))
            return {"ok": True}
        if path == "boom":
            raise TrpcFaultError("INTERNAL_SERVER_ERROR", "boom")
        raise TrpcFaultError("NOT_FOUND", f'No procedure found on path "{path}"')

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.fake.store.close_after_response:
            self.close_connection = True  # without telling the client: an idle close

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _event(self, data: str, event: str | None = None, id: str | None = None) -> None:
        lines = []
        if event:
            lines.append(f"event: {event}")
        if id:
            lines.append(f"id: {id}")
        lines.append(f"data: {data}")
        payload = ("\n".join(lines) + "\n\n").encode()
        if self.server.fake.store.chunked_streams:  # as uvicorn streams under HTTP/1.1
            payload = b"%x\r\n%s\r\n" % (len(payload), payload)
        self.wfile.write(payload)
        self.wfile.flush()

    def _end_stream(self) -> None:
        if self.server.fake.store.chunked_streams:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _stream_questions(self, data: dict[str, Any]) -> None:
        fake = self.server.fake
        store = fake.store
        header_id = self.headers.get("last-event-id")
        with store.cond:
            store.subscription_inputs.append((data, header_id))
            drop = store.drop_streams > 0
            if drop:
                store.drop_streams -= 1
        self.close_connection = True
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache, no-transform")
        if store.chunked_streams:
            self.send_header("transfer-encoding", "chunked")
        else:
            self.send_header("connection", "close")
        self.end_headers()
        self._event("{}", event="connected")
        if data.get("agentId") == "forbidden":
            shape = TrpcFaultError("FORBIDDEN", "you may only listen as yourself").shape("x")
            self._event(json.dumps(shape), event="serialized-error")
            self._end_stream()
            return
        last = data.get("lastEventId")
        sent: set[str] = set()
        while True:
            with store.cond:
                pending = store.pending_for(data["agentId"])
                start_seq = store.conversations[last]["_seq"] if last in store.conversations else 0
            fresh = [c for c in pending if c["_seq"] > start_seq and c["id"] not in sent]
            for conversation in fresh:
                self._event(json.dumps(_public(conversation)), id=conversation["id"])
                sent.add(conversation["id"])
                if drop:
                    self._drop()
                    return
            if not fresh and store.return_when_idle:
                self._event("", event="return")
                self._end_stream()
                return
            try:
                store.wait_until(lambda: False, 0.05, fake)
            except ConnectionAbortedError:
                self._drop()
                return
            self._event("", event="ping")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeTrpcServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # connections dropped on purpose by stop() are not errors here


class FakeTrpcServer:
    """Start/stop/restart a fake tRPC endpoint at ``url`` on a fixed loopback port."""

    def __init__(
        self, store: FakeStore | None = None, *, tls: ssl.SSLContext | None = None
    ) -> None:
        self.store = store or FakeStore()
        self.tls = tls  # a server-side context: serve https
        self.port = 0
        self.stopped = True
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/trpc"

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def start(self) -> FakeTrpcServer:
        httpd = _Server(("127.0.0.1", self.port), _Handler)
        httpd.fake = self
        if self.tls is not None:
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self.stopped = False
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Like a crash: stop accepting, drop every open connection mid-request."""
        with self._lock:
            httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopped = True
        with self.store.cond:
            self.store.cond.notify_all()
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._sockets.clear()
        if self._thread is not None:
            self._thread.join(5)
