"""The live stream: ``GET /events?page=PATH``, server-sent events that tell an open page
to refresh when something it shows changed.

The stream follows the server's change stream (``ChangeStream.follow``): every event a
unit of work publishes after its commit (a question asked or answered, a reply, an
agent's status, a task's state, a log chunk, any entity created, updated or deleted).
No timer reads the database. Each burst of events (those within ``COALESCE_S`` of the
first) is sifted by the page's :class:`~crosswalk.server.web.watch.Watch`; what the page
shows of it becomes one ``change`` event whose data names the event types, and a burst
it shows none of sends nothing. The page's live region (htmx ``hx-trigger="sse:change"``)
then fetches its fresh content. A stream that names no page it knows is told of every
burst.

Every (re)connection starts with a ``change`` event, so a browser that lost the stream
catches up with whatever happened meanwhile; so does a follower that fell too far
behind (``lagged``), which follows again. Comments keep idle connections open; the
stream ends when the session does or the server shuts down (the browser reconnects to
the next one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from crosswalk.domain.events import Event
from crosswalk.server.context import Services
from crosswalk.server.web.watch import Scope, Verdict, Watch, topics
from crosswalk.services.change_stream import ChangeStream, Follower

COALESCE_S = 0.05
KEEPALIVE_S = 15.0
RETRY_MS = 1000

KEEPALIVE = b": keepalive\n\n"


def change_event(what: str) -> bytes:
    return f"event: change\ndata: {what}\n\n".encode()


def _names(burst: list[Event]) -> str:
    return ",".join(sorted({type(event).__name__ for event in burst}))


@dataclass(slots=True)
class Sieve:
    """One stream's page: which events of a burst it shows, given its scope (read off
    the event loop, in a fixed number of queries, when the stream begins and again when
    a change may have moved a row in or out of it)."""

    watch: Watch
    services: Services
    scope: Scope = field(default_factory=Scope)

    async def begin(self) -> None:
        self.scope = await run_in_threadpool(self._read, True)

    async def shown(self, burst: list[Event]) -> list[Event]:
        verdicts = [self.watch.verdict(event, self.scope) for event in burst]
        if Verdict.MAYBE in verdicts or self.watch.may_move(burst):
            self.scope = await run_in_threadpool(self._read, False)
            verdicts = [
                self._joined(event) if verdict is Verdict.MAYBE else verdict
                for event, verdict in zip(burst, verdicts, strict=True)
            ]
        return [event for event, v in zip(burst, verdicts, strict=True) if v is Verdict.SHOWN]

    def _joined(self, event: Event) -> Verdict:
        keys = self.scope.keys
        joined = any(t.kind in self.watch.scoped and t.key in keys for t in topics(event))
        return Verdict.SHOWN if joined else Verdict.NOT_SHOWN

    def _read(self, with_sessions: bool) -> Scope:
        """The page's scope (blocking: run off the loop); the session numbers read anew
        only when the stream begins, else kept."""
        watch, services = self.watch, self.services
        keys = watch.read_scope(services) if watch.read_scope is not None else set()
        sessions = self.scope.sessions
        if with_sessions and watch.read_sessions is not None:
            sessions = watch.read_sessions(services)
        return Scope(keys, sessions)


async def change_events(
    changes: ChangeStream,
    still_signed_in: Callable[[], bool],
    *,
    sieve: Sieve | None = None,
    keepalive_s: float = KEEPALIVE_S,
) -> AsyncIterator[bytes]:
    """The bytes of the stream for one connection; with ``sieve``, only the bursts its
    page shows something of."""
    loop = asyncio.get_running_loop()
    greeting = f"retry: {RETRY_MS}\n\n".encode() + change_event("connected")
    while not changes.closed and still_signed_in():
        async with changes.follow() as follower:
            if sieve is not None:
                await sieve.begin()  # after following: no change after this read is lost
            yield greeting  # after following: nothing between the page and now is lost
            sent_at = loop.time()
            async for burst in _bursts(follower, keepalive_s):
                if not still_signed_in():
                    return
                shown = burst if sieve is None else await sieve.shown(burst)
                if shown:
                    yield change_event(_names(shown))
                elif loop.time() - sent_at >= keepalive_s:
                    yield KEEPALIVE  # quiet, or busy with what this page does not show
                else:
                    continue
                sent_at = loop.time()
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
