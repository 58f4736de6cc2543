"""uvicorn's httptools protocol: one write per response, and under load one burst per turn.

uvicorn writes a response's status line and headers, then its body, each with its own
``transport.write``; on uvloop each of those is a ``send()`` system call when the
socket's buffer is empty, as it nearly always is. py-spy put the two writes at about a
fifth of the server's CPU on the conversation benchmark. Here the connection's
transport holds a response's head and sends it with the write that follows (the body,
written in the same turn of the event loop for every JSON response), or alone at the end
of that turn when nothing follows yet (a stream's head). uvicorn takes the class as
``Config(http=...)``.

A ``send()`` to a client that sleeps waiting for it also wakes that client, and on a
virtual machine a wake-up on another core costs the sender more than the write itself.
So the first response of a loop turn goes out at once, and any later ones wait for the
turn's end and go out back to back (:class:`_Turn`): a lone agent's request is
never delayed, while under load the clients are woken together instead of one by
one, each between two handlers' work. At 20 and 100 pairs this is 10-12% less server
CPU per conversation and as much more throughput; at one pair nothing changes
(``docs/performance.md``); holding the first response too would cost a lone pair 11%
more CPU and 0.2 ms. Only a server whose handlers run on the loop batches
(:class:`BatchingHttpToolsProtocol`).

``HttpToolsProtocol`` is private to uvicorn: pyproject.toml pins uvicorn to the minor
versions ``tests/unit/server/test_uvicorn_internals.py`` passes on, and that test names
what this module relies on.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class _Turn:
    """One event loop's current turn, as the server's writes see it.

    The first response written in a turn goes out at once; any later one is held and
    they go out back to back when the turn ends (a callback queued behind the turn's
    other work). One at a time, a lone client's response is never delayed; under load,
    the clients' wake-ups come together."""

    __slots__ = ("_batching", "_ending", "_held", "_loop", "_sent")

    def __init__(self, loop: asyncio.AbstractEventLoop, *, batching: bool = True) -> None:
        self._loop = loop
        self._batching = batching  # False: every response goes out at once
        self._held: list[_JoiningTransport] = []
        self._sent = False  # a response went out in this turn
        self._ending = False  # the end-of-turn callback is queued

    def send(self, transport: _JoiningTransport, data: bytes) -> None:
        if not self._batching:
            transport.send_now(data)  # nothing to end the turn for
            return
        if self._sent:
            transport.hold(data)
            self._held.append(transport)
        else:
            self._sent = True
            transport.send_now(data)
        self._end_later()

    def hold(self, transport: _JoiningTransport) -> None:
        self._held.append(transport)
        self._end_later()

    def _end_later(self) -> None:
        if not self._ending:
            self._ending = True
            self._loop.call_soon(self._end)

    def _end(self) -> None:
        self._ending = self._sent = False
        held, self._held = self._held, []
        for transport in held:
            transport.flush()


class _JoiningTransport:
    """A transport that sends a response's head together with its body, in one write,
    and lets the loop's :class:`_Turn` decide when that write goes out.

    A write that starts like a status line is held until the next write or the end of
    the loop turn, whichever comes first; any other write goes out after what is held
    (so the order of the bytes never changes, whatever a body starts with).
    Everything else is the wrapped transport's. ``close`` first sends what is held, as
    closing a transport sends its buffer first."""

    __slots__ = ("_held", "_transport", "_turn")

    def __init__(self, transport: asyncio.Transport, turn: _Turn) -> None:
        self._transport = transport
        self._turn = turn
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._turn.send(self, held + data)
        elif data.startswith(b"HTTP/1."):
            self._held = data
            self._turn.hold(self)
        else:
            self._transport.write(data)

    def send_now(self, data: bytes) -> None:
        self._transport.write(data)

    def hold(self, data: bytes) -> None:
        self._held = data if self._held is None else self._held + data

    def flush(self) -> None:
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


# Each loop's turn, by whether it batches (a server has one loop; tests may run several).
_TURNS: dict[bool, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Turn]] = {
    False: weakref.WeakKeyDictionary(),
    True: weakref.WeakKeyDictionary(),
}


class JoiningHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a :class:`_JoiningTransport`: one write per
    response, each sent as soon as it is complete."""

    BATCHING: ClassVar[bool] = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        turns = _TURNS[self.BATCHING]
        turn = turns.get(self.loop)
        if turn is None:
            turn = turns[self.loop] = _Turn(self.loop, batching=self.BATCHING)
        joining: Any = _JoiningTransport(transport, turn)
        super().connection_made(joining)


class BatchingHttpToolsProtocol(JoiningHttpToolsProtocol):
    """:class:`JoiningHttpToolsProtocol` that also holds a turn's later responses for
    its end (:class:`_Turn`), for a server whose handlers run on the event loop itself
    (SQLite). Where they run on worker threads (PostgreSQL), their results reach the
    loop one by one, and holding them cost `health` 13% more CPU at 20 connections."""

    BATCHING: ClassVar[bool] = True
