"""Subscriptions as server-sent events, byte for byte as tRPC's ``sseStreamProducer``.

Every event is its ``field: value`` lines followed by two newlines (tRPC writes one
blank line more than SSE needs; kept so the stream is indistinguishable). The order:

- ``event: connected`` first, always;
- one ``data:`` line per value, with ``id:`` for :class:`Tracked` values;
- ``event: ping`` when nothing was sent for ``ping_interval_s``;
- ``event: return`` when the generator ends, or ``event: serialized-error`` when it
  raises (then the stream ends).

Three tasks per stream keep the generator's life bounded by the connection's: the pump
runs the generator (always in that one task, so context variables and cancel scopes
inside it behave), the watcher waits for ``http.disconnect``, and the caller's task is
the only writer. A disconnect or :meth:`SseStream.shutdown` cancels the pump, which
``aclose``-s the generator at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Final

from starlette.types import Message, Receive, Send

from crosswalk.server.trpc.errors import TrpcError, error_shape, to_trpc_error
from crosswalk.server.trpc.jsonenc import dumps_bytes
from crosswalk.server.trpc.router import Tracked

logger = logging.getLogger("crosswalk.server")

SSE_HEADERS: Final[list[tuple[bytes, bytes]]] = [
    (b"vary", b"trpc-accept, accept"),
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),
    (b"connection", b"keep-alive"),
]

CONNECTED_EVENT: Final = b"event: connected\ndata: {}\n\n\n"
PING_EVENT: Final = b"event: ping\ndata: \n\n\n"
RETURN_EVENT: Final = b"event: return\ndata: \n\n\n"

_END_OF_BODY: Final[Message] = {"type": "http.response.body", "body": b"", "more_body": False}


def error_event(error: TrpcError, path: str | None, *, debug: bool) -> bytes:
    """``serialized-error`` carrying the bare error shape (no ``{"error": ...}`` wrapper)."""
    shape = dumps_bytes(error_shape(error, path, debug=debug))
    return b"event: serialized-error\ndata: " + shape + b"\n\n\n"


def _body(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


class SseStream:
    """One open subscription response. Run it with :meth:`run`; end it with :meth:`shutdown`.

    ``source`` is the subscription's iterator, or None when the call already failed
    with ``error`` (tRPC still answers 200 with ``connected`` then the error).
    """

    __slots__ = (
        "_debug",
        "_error",
        "_finished",
        "_headers",
        "_last_event_id",
        "_path",
        "_ping_interval_s",
        "_receive",
        "_send",
        "_source",
        "_stop",
    )

    def __init__(
        self,
        send: Send,
        receive: Receive,
        *,
        source: AsyncIterator[Any] | None,
        error: TrpcError | None,
        path: str,
        last_event_id: str | None,
        ping_interval_s: float | None,
        debug: bool,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self._send = send
        self._receive = receive
        self._source = source
        self._error = error
        self._path = path
        self._last_event_id = last_event_id
        self._ping_interval_s = ping_interval_s if ping_interval_s and ping_interval_s > 0 else None
        self._debug = debug
        self._headers = SSE_HEADERS + extra_headers if extra_headers else SSE_HEADERS
        loop = asyncio.get_running_loop()
        self._stop: asyncio.Future[None] = loop.create_future()
        self._finished = asyncio.Event()

    def shutdown(self) -> None:
        """End the stream without a ``return`` event, so the client reconnects later."""
        if not self._stop.done():
            self._stop.set_result(None)

    async def wait_finished(self) -> None:
        """Wait until :meth:`run` has returned and the generator is closed."""
        await self._finished.wait()

    async def run(self) -> None:
        """Stream until the generator ends, the client leaves, or :meth:`shutdown`."""
        source, self._source = self._source, None
        try:
            await self._send(
                {"type": "http.response.start", "status": 200, "headers": self._headers}
            )
            await self._send(_body(CONNECTED_EVENT))
            if source is None:
                error = self._error or TrpcError("INTERNAL_SERVER_ERROR")
                await self._send(_body(error_event(error, self._path, debug=self._debug)))
                await self._send(_END_OF_BODY)
                return
            relayed, source = source, None  # from here on the pump owns (and closes) it
            if await self._relay(relayed):
                await self._send(_END_OF_BODY)
        finally:
            if source is not None:  # sending the preamble failed: the pump never ran
                await _close_quietly(source, self._path)
            self._finished.set()

    async def _relay(self, source: AsyncIterator[Any]) -> bool:
        """Copy pump output to the client, with pings; False when the client is gone."""
        queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue(maxsize=1)
        pump = asyncio.ensure_future(self._pump(source, queue))
        watcher = asyncio.ensure_future(self._wait_disconnect())
        getter = asyncio.ensure_future(queue.get())
        client_present = True
        try:
            while True:
                done, _ = await asyncio.wait(
                    (getter, watcher, self._stop),
                    timeout=self._ping_interval_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if watcher in done:
                    client_present = False
                    break
                if getter in done:
                    chunk, last = getter.result()
                    await self._send(_body(chunk))
                    if last:
                        break
                    getter = asyncio.ensure_future(queue.get())
                elif self._stop in done:
                    break
                else:
                    await self._send(_body(PING_EVENT))
        finally:
            for task in (pump, watcher, getter):
                task.cancel()
            await asyncio.gather(pump, watcher, getter, return_exceptions=True)
        return client_present

    async def _wait_disconnect(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass

    async def _pump(
        self, source: AsyncIterator[Any], queue: asyncio.Queue[tuple[bytes, bool]]
    ) -> None:
        """Run the generator, queueing encoded events; always closes the generator."""
        last_id = self._last_event_id
        try:
            try:
                async for value in source:
                    if isinstance(value, Tracked):
                        last_id = value.id
                        event = (
                            b"data: "
                            + dumps_bytes(value.data)
                            + b"\nid: "
                            + value.id.encode()
                            + b"\n\n\n"
                        )
                    elif last_id is None:
                        event = b"data: " + dumps_bytes(value) + b"\n\n\n"
                    else:
                        # An untracked value after tracked ones: tRPC blanks the id, then
                        # restores it so a reconnect still resumes from the last tracked one.
                        event = (
                            b"data: " + dumps_bytes(value) + b"\nid: \n\n\n"
                            b"event: restore-id\ndata: \nid: " + last_id.encode() + b"\n\n\n"
                        )
                    await queue.put((event, False))
            except Exception as exc:
                error = to_trpc_error(exc, self._path)
                await queue.put((error_event(error, self._path, debug=self._debug), True))
            else:
                await queue.put((RETURN_EVENT, True))
        finally:
            await _close_quietly(source, self._path)


async def _close_quietly(source: AsyncIterator[Any], path: str) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception:
        logger.exception("subscription %s failed while closing", path)
