"""uvicorn's httptools protocol, writing a response's head and body in one system call.

uvicorn writes a response's status line and headers, then its body, each with its own
``transport.write``; on uvloop each of those is a ``send()`` system call when the
socket's buffer is empty, as it nearly always is. py-spy put the two writes at about a
fifth of the server's CPU on the conversation benchmark. Here the connection's
transport holds a response's head and sends it with the write that follows (the body,
written in the same turn of the event loop for every JSON response), or alone at the end
of that turn when nothing follows yet (a stream's head). uvicorn takes the class as
``Config(http=...)``.

Holding every write until the end of the loop turn instead (so that, under load, the
responses of many connections go out back to back) cost 10% less CPU per conversation
at 20 pairs but 11% more, and 0.2 ms more latency, for a lone pair
(``docs/performance.md``, fix 13): not taken.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _JoiningTransport:
    """A transport that sends a response's head together with the write after it.

    A write that starts like a status line is held until the next write or the end of
    the loop turn, whichever comes first; any other write goes out at once, after what
    is held (so the order of the bytes never changes, whatever a body starts with).
    Everything else is the wrapped transport's. ``close`` first sends what is held, as
    closing a transport sends its buffer first."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif data.startswith(b"HTTP/1."):
            self._held = data
            self._loop.call_soon(self._flush)
        else:
            self._transport.write(data)

    def _flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class JoiningHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`_JoiningTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        joining: Any = _JoiningTransport(transport, self.loop)
        super().connection_made(joining)
