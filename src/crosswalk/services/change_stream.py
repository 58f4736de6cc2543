"""The one change-event stream: committed changes, pushed to whoever waits or watches.

Units of work hand their events here after they commit (``publish_committed``).
Two ways to follow them, both push, never polling:

- **wait on keys** (long polls, ``cw ask``/``cw listen``, SSE): subscribe to the keys
  an answer would wake (``crosswalk.domain.events``: ``answer:<id>``,
  ``question:<agentId>``, ...), read the database, then wait and read again. The order
  is what makes a wake-up impossible to lose, and it is written once:
  ``wait_until`` (a long poll: the first read that is done, or the last one when the
  time is up) and ``watch`` (a stream: every read, until the stream closes)::

      answered = await stream.wait_until(
          [answer_key(id)], read, done=lambda c: c.status is not PENDING, timeout_s=30
      )
      # read(subscription) may look at subscription.received, the events that woke
      # it (e.g. the reason a conversation was withdrawn)

- **follow everything** (the dashboard, the runner, diagnostics): ``follow(accept)``
  yields every committed event ``accept`` keeps, in commit order, until the stream
  closes. A follower that falls ``max_backlog`` events behind is dropped (its
  iteration ends with ``lagged`` set) rather than holding memory for ever: it
  re-reads the state it needs and follows again.

- **observe** (in-memory caches that must not outlive what they copy, like the
  authenticator's tokens): ``observe(fn)`` calls ``fn(event)`` for every committed
  event synchronously, on the thread that publishes it, before any waiter wakes (so
  before the request that made the change is answered), and ``fn(None)`` on
  ``resync``.

``ChangeStream`` serves one server process; it is the ``EventPublisher`` the unit of
work calls after commit. Several servers on one PostgreSQL database add a publisher
that sends ``NOTIFY`` inside the transaction and a listener that feeds each server's
stream through ``publish_committed``. Events may be published from any thread;
delivery happens on the event loop the subscribers run on.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.domain.events import Event

DEFAULT_MAX_BACKLOG = 10_000
#: How long a stream's wait lasts before it reads again with no event (a safety net:
#: every change it could miss wakes it sooner).
STREAM_REREAD_S = 3600.0

T = TypeVar("T")
Read = Callable[["Subscription"], Awaitable[T]]


class Subscription:
    """A waiter on a set of keys.

    Waiting is one future and one timer: no task per wait (``asyncio.wait_for`` would
    wrap the wait in a task of its own, on every long poll of the hot path)."""

    __slots__ = ("_clock", "_closed", "_pending", "_waiter", "received")

    def __init__(self, closed: asyncio.Event, clock: Clock) -> None:
        self._pending = False  # woken since the last wait returned
        self._waiter: asyncio.Future[None] | None = None
        self._closed = closed
        self._clock = clock
        self.received: list[Event] = []

    async def wait(self, timeout: float) -> bool:
        """Wait until an event for one of the keys arrives (True), the timeout passes or
        the stream closes (False). An event since the last wait counts: none is missed."""
        if self._closed.is_set():
            return False
        if not self._pending:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            timer = self._clock.call_later(timeout, lambda: _release(waiter))
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not self._pending:
                return False  # the timeout passed
        self._pending = False
        return not self._closed.is_set()

    def _wake(self) -> None:
        self._pending = True
        if self._waiter is not None:
            _release(self._waiter)

    def _deliver(self, event: Event) -> None:
        self.received.append(event)
        self._wake()


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Follower:
    """An iterator over every committed event its filter keeps, in commit order."""

    __slots__ = ("_accept", "_closed", "_max_backlog", "_queue", "_ready", "lagged")

    def __init__(
        self, accept: Callable[[Event], bool] | None, closed: asyncio.Event, max_backlog: int
    ) -> None:
        self._accept = accept
        self._closed = closed
        self._max_backlog = max_backlog
        self._queue: deque[Event] = deque()
        self._ready = asyncio.Event()
        self.lagged = False

    def __aiter__(self) -> Follower:
        return self

    async def __anext__(self) -> Event:
        while not self._queue:
            if self._closed.is_set() or self.lagged:
                raise StopAsyncIteration
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def _deliver(self, event: Event) -> None:
        if self.lagged or (self._accept is not None and not self._accept(event)):
            return
        if len(self._queue) >= self._max_backlog:
            self.lagged = True
            self._queue.clear()
        else:
            self._queue.append(event)
        self._ready.set()


class ChangeStream:
    """Committed change events of one server process, fanned out by key and to followers."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self._clock = clock  # what timeouts and deadlines are kept on
        self._subscribers: dict[str, set[Subscription]] = {}
        self._followers: set[Follower] = set()
        self._observers: tuple[Callable[[Event | None], None], ...] = ()
        self._closed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    def _bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()

    @asynccontextmanager
    async def subscribe(self, *keys: str) -> AsyncIterator[Subscription]:
        """Wake on the next event for any of ``keys`` (see the module docstring)."""
        self._bind_loop()
        subscription = Subscription(self._closed, self._clock)
        for key in keys:
            self._subscribers.setdefault(key, set()).add(subscription)
        try:
            yield subscription
        finally:
            for key in keys:
                subscribers = self._subscribers.get(key)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[key]

    @asynccontextmanager
    async def follow(
        self,
        accept: Callable[[Event], bool] | None = None,
        *,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
    ) -> AsyncIterator[Follower]:
        """Every event committed from now on that ``accept`` keeps (all without one)."""
        self._bind_loop()
        follower = Follower(accept, self._closed, max_backlog)
        self._followers.add(follower)
        try:
            yield follower
        finally:
            self._followers.discard(follower)

    async def wait_until(
        self,
        keys: Iterable[str],
        read: Read[T],
        *,
        done: Callable[[T], bool],
        timeout_s: float,
    ) -> T:
        """A long poll: subscribe to ``keys``, then ``read(subscription)`` at once and after
        each wake-up, until a read is ``done`` or ``timeout_s`` passes or the stream
        closes; the last read. Subscribing before the first read is what makes a lost
        wake-up impossible. ``read`` may raise to end the wait (a row gone, a caller
        refused) and may look at ``subscription.received``. The deadline is kept on the
        stream's clock."""
        monotonic = self._clock.monotonic
        deadline = monotonic() + timeout_s
        async with self.subscribe(*keys) as subscription:
            while True:
                result = await read(subscription)
                remaining = deadline - monotonic()
                if done(result) or remaining <= 0 or self.closed:
                    return result
                await subscription.wait(remaining)

    async def watch(
        self, keys: Iterable[str], read: Read[T], *, reread_s: float = STREAM_REREAD_S
    ) -> AsyncGenerator[T, None]:
        """A stream: subscribe to ``keys``, then yield ``read(subscription)`` at once and
        after each wake-up (or ``reread_s`` without one), until the stream closes (a
        subscriber ends it sooner by leaving; ``read`` may raise, as in ``wait_until``).
        Close it when leaving early (``contextlib.aclosing``), so the subscription goes
        at once."""
        async with self.subscribe(*keys) as subscription:
            while not self.closed:
                yield await read(subscription)
                await subscription.wait(reread_s)

    def observe(self, observer: Callable[[Event | None], None]) -> None:
        """Call ``observer`` with every event committed from now on, and with None when
        events may have been missed (see the module docstring). It must be quick and
        must not raise."""
        self._observers = (*self._observers, observer)

    def publish_in_transaction(self, connection: Any, events: Sequence[Event]) -> None:
        """Nothing to do before the commit: in-process waiters hear only committed changes."""

    def publish_committed(self, events: Sequence[Event]) -> None:
        """Deliver the events of a committed unit of work to every matching waiter."""
        if not events:
            return
        for observer in self._observers:
            for event in events:
                observer(event)
        loop = self._loop
        if loop is None:
            return  # nobody has ever waited: nothing to wake
        if threading.get_ident() == self._loop_thread:
            self._deliver(events)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._deliver, tuple(events))

    def _deliver(self, events: Sequence[Event]) -> None:
        for event in events:
            for key in event.wake_keys():
                for subscription in tuple(self._subscribers.get(key, ())):
                    subscription._deliver(event)
            for follower in tuple(self._followers):
                follower._deliver(event)

    def resync(self) -> None:
        """After a gap in what this process heard (its connection to the other servers
        was lost): wake every waiter once, with no event, to re-read the database, and
        end every follower as ``lagged`` so it re-reads what it needs. Any thread."""
        for observer in self._observers:
            observer(None)
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._resync()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._resync)

    def _resync(self) -> None:
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._wake()
        for follower in self._followers:
            follower.lagged = True
            follower._ready.set()

    def close(self) -> None:
        """Server shutdown: wake every waiter and end every follower, for good."""
        self._closed.set()
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription._wake()
        for follower in self._followers:
            follower._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def waiting(self, key: str) -> int:
        """How many requests wait on ``key`` (for tests and diagnostics)."""
        return len(self._subscribers.get(key, ()))
