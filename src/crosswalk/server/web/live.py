"""The live stream: ``GET /events``, server-sent events that tell open pages to refresh.

The stream follows the server's change stream (``ChangeStream.follow``): every event a
unit of work publishes after its commit (a question asked or answered, a reply, an
agent's status, a task's state, a log chunk, any entity created, updated or deleted).
No timer reads the database. Each burst of events (those within ``COALESCE_S`` of the
first) becomes one ``change`` event whose data names the event types; the page's live
region (htmx ``hx-trigger="sse:change"``) then fetches its fresh content.

Every (re)connection starts with a ``change`` event, so a browser that lost the stream
catches up with whatever happened meanwhile; so does a follower that fell too far
behind (``lagged``), which follows again. Comments keep idle connections open; the
stream ends when the session does or the server shuts down (the browser reconnects to
the next one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from crosswalk.domain.events import Event
from crosswalk.services.change_stream import ChangeStream, Follower

COALESCE_S = 0.05
KEEPALIVE_S = 15.0
RETRY_MS = 1000

KEEPALIVE = b": keepalive\n\n"


def change_event(what: str) -> bytes:
    return f"event: change\ndata: {what}\n\n".encode()


def _names(burst: list[Event]) -> str:
    return ",".join(sorted({type(event).__name__ for event in burst}))


async def change_events(
    changes: ChangeStream,
    still_signed_in: Callable[[], bool],
    *,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    """The bytes of the stream for one connection."""
    greeting = f"retry: {RETRY_MS}\n\n".encode() + change_event("connected")
    while not changes.closed and still_signed_in():
        async with changes.follow() as follower:
            yield greeting  # after following: nothing between the page and now is lost
            async for burst in _bursts(follower, keepalive_s):
                if not still_signed_in():
                    return
                yield change_event(_names(burst)) if burst else KEEPALIVE
            if not follower.lagged:
                return  # the server is shutting down
        greeting = change_event("lagged")


async def _bursts(follower: Follower, keepalive_s: float) -> AsyncIterator[list[Event]]:
    """Events grouped by arrival (``[]`` after ``keepalive_s`` of silence), until the
    follower ends."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            first = await asyncio.wait_for(anext(follower), keepalive_s)
        except TimeoutError:
            yield []
            continue
        except StopAsyncIteration:
            return
        burst = [first]
        deadline = loop.time() + COALESCE_S
        while (remaining := deadline - loop.time()) > 0:
            try:
                burst.append(await asyncio.wait_for(anext(follower), remaining))
            except TimeoutError:
                break
            except StopAsyncIteration:
                yield burst
                return
        yield burst
