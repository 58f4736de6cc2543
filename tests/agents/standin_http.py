"""A small threaded HTTP server on 127.0.0.1 for the model-API stand-ins.

Each stand-in subclasses StandinServer and answers requests in ``respond``; every request
(path, headers, JSON body) is recorded before it is answered.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def credential(self) -> str | None:
        """The account's key: x-api-key, else the Authorization bearer token."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    events: list[tuple[str, dict[str, Any]]] | None = None


class StandinServer:
    """Start with ``start()``, stop with ``close()``; ``url`` is the base URL."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self.handle_any()

            def do_HEAD(self) -> None:
                self.handle_any()

            def do_POST(self) -> None:
                self.handle_any()

            def handle_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = RecordedRequest(self.command, self.path, headers, body)
                with standin.lock:
                    standin.requests.append(request)
                    reply = standin.respond(request)
                self.send(reply)

            def send(self, reply: Reply) -> None:
                if reply.events is not None:
                    payload = "".join(
                        f"event: {name}\ndata: {json.dumps(data)}\n\n"
                        for name, data in reply.events
                    ).encode()
                    content_type = "text/event-stream"
                else:
                    payload = json.dumps(reply.json_body).encode()
                    content_type = "application/json"
                self.send_response(reply.status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandinServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def respond(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError
