"""The live stream: ``GET /events``, server-sent events that tell open pages to refresh.

The stream parks on the notifier's ``CHANGES_KEY`` (published after every committed
change, see ``crosswalk.server.changes``): no timer reads the database. Each wake
sends one ``change`` event; the page's live region (htmx ``hx-trigger="sse:change"``)
then fetches its fresh content. A burst of changes within ``COALESCE_S`` is one
event. Every (re)connection starts with a ``change`` event, so a browser that lost
the stream catches up with whatever happened meanwhile. Comments keep idle
connections open through proxies; the stream ends when the session does or the
server shuts down (the browser reconnects to the next one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from crosswalk.services.notifier import CHANGES_KEY, Notifier

COALESCE_S = 0.05
KEEPALIVE_S = 15.0
RETRY_MS = 1000

CHANGE_EVENT = b"event: change\ndata: refresh\n\n"


async def change_events(
    notifier: Notifier,
    still_signed_in: Callable[[], bool],
    *,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    """The bytes of the stream for one connection."""
    async with notifier.subscribe(CHANGES_KEY) as subscription:
        yield f"retry: {RETRY_MS}\n\n".encode() + CHANGE_EVENT
        while not notifier.closed and still_signed_in():
            if await subscription.wait(keepalive_s):
                await asyncio.sleep(COALESCE_S)
                await subscription.wait(0)  # what came during the pause is in this event
                yield CHANGE_EVENT
            elif not notifier.closed:
                yield b": keepalive\n\n"
