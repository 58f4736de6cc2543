"""What crosswalk's subclasses take from uvicorn beyond its documented settings.

``server/http_protocol.py`` subclasses the private httptools protocol and relies on its
module path, the constructor and ``connection_made`` signatures, ``self.loop``, and on a
response going out as two ``transport.write`` calls (the status line and headers in one,
starting ``HTTP/1.``; then the body). ``server/main.py``'s ``_Server`` overrides
``Server.capture_signals``, ``handle_exit`` and ``startup``. pyproject.toml pins uvicorn
to the minor versions these tests pass on; before widening the pin, run them against the
new version: a failure here names what changed, where a change unnoticed would merge no
writes, hold a response for ever, or drop the graceful wake-up on an exit signal.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from crosswalk.server.http_protocol import (
    BatchingHttpToolsProtocol,
    JoiningHttpToolsProtocol,
    _JoiningTransport,
)
from crosswalk.server.main import _Server


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_overridden_and_used_members_keep_their_shape() -> None:
    assert parameters(HttpToolsProtocol.__init__) == [
        "self",
        "config",
        "server_state",
        "app_state",
        "_loop",
    ]
    assert parameters(HttpToolsProtocol.connection_made) == ["self", "transport"]
    # The loop the subclass keys each turn by is an attribute the constructor sets.
    assert "self.loop = " in inspect.getsource(HttpToolsProtocol.__init__)


def test_the_server_hooks_the_subclass_overrides_are_still_called() -> None:
    assert parameters(uvicorn.Server.handle_exit) == ["self", "sig", "frame"]
    assert parameters(uvicorn.Server.startup) == ["self", "sockets"]
    assert "self.started = True" in inspect.getsource(uvicorn.Server.startup)
    # serve() installs the signal handlers through capture_signals, which _Server
    # replaces so that a clean stop exits 0 instead of re-raising the signal.
    assert "with self.capture_signals():" in inspect.getsource(uvicorn.Server.serve)
    assert "self.handle_exit" in inspect.getsource(uvicorn.Server.capture_signals)
    assert set(vars(_Server)) >= {"capture_signals", "handle_exit", "startup"}


class RecordingTransport:
    """The socket's transport, as far as uvicorn uses it for one plain request."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


BODY = b'{"result":{"data":"ok"}}'


def serve_one_request(protocol_class: type[HttpToolsProtocol]) -> RecordingTransport:
    """One GET through uvicorn's real protocol on a recording transport; its writes."""

    async def scenario() -> RecordingTransport:
        answered = asyncio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            headers = [(b"content-type", b"application/json")]
            headers.append((b"content-length", str(len(BODY)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})
            answered.set()

        loop = asyncio.get_running_loop()
        config = uvicorn.Config(app, http=protocol_class, lifespan="off", log_level="warning")
        protocol = protocol_class(config, ServerState(), {}, _loop=loop)
        assert protocol.loop is loop
        transport = RecordingTransport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        joined = issubclass(protocol_class, JoiningHttpToolsProtocol)
        assert isinstance(protocol.transport, _JoiningTransport) is joined
        protocol.data_received(b"GET /trpc/health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        await answered.wait()
        await asyncio.sleep(0)  # the end of the turn, when a held head would go out
        protocol.connection_lost(None)
        return transport

    return asyncio.run(scenario())


def test_uvicorn_writes_a_head_then_a_body_and_the_subclass_joins_them() -> None:
    for protocol_class in (JoiningHttpToolsProtocol, BatchingHttpToolsProtocol):
        writes = serve_one_request(protocol_class).writes
        assert len(writes) == 1, (protocol_class.__name__, writes)
        assert writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
        assert writes[0].endswith(b"\r\n\r\n" + BODY)


def test_uvicorn_itself_writes_the_head_and_the_body_apart() -> None:
    """What the subclass exists for: were uvicorn to join them, it could go."""
    writes = serve_one_request(HttpToolsProtocol).writes
    assert len(writes) == 2
    assert writes[0].startswith(b"HTTP/1.")
    assert writes[0].endswith(b"\r\n\r\n")
    assert writes[1] == BODY
