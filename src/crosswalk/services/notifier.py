"""Push notification between the writer of a row and the requests waiting for it.

``listen`` and ``waitForAnswer`` park on a key (``question:<agentId>``,
``answer:<conversationId>``) and wake the moment a commit publishes it: no
polling. The protocol every caller follows, so no wake-up can be lost:

    async with notifier.subscribe(key) as subscription:
        if (result := check_the_database()):   # after subscribing
            return result
        await subscription.wait(timeout)        # woken by publish(key)
        return check_the_database()

``Notifier`` is the port; ``InProcessNotifier`` serves one server process. A
multi-server deployment replaces it (e.g. with PostgreSQL LISTEN/NOTIFY).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol


def question_key(agent_id: str) -> str:
    return f"question:{agent_id}"


def answer_key(conversation_id: str) -> str:
    return f"answer:{conversation_id}"


def dispatch_key() -> str:
    """Published after a change that can make work ready or done (a task's state, an
    agent's run ending), so the dispatcher looks again."""
    return "dispatch"


class Subscription(Protocol):
    async def wait(self, timeout: float) -> bool:
        """Wait until the key is published (True), the timeout passes or the notifier
        closes (False). A publish since the last wait counts, so nothing is missed."""
        ...


class Notifier(Protocol):
    def subscribe(self, key: str) -> AbstractAsyncContextManager[Subscription]: ...

    def publish(self, key: str) -> None:
        """Wake every current subscriber of ``key``. Call after the commit."""
        ...

    def close(self) -> None:
        """Wake every waiter for good (server shutdown): they return their current state."""
        ...

    @property
    def closed(self) -> bool: ...


class _EventSubscription:
    __slots__ = ("_closed", "event")

    def __init__(self, closed: asyncio.Event) -> None:
        self.event = asyncio.Event()
        self._closed = closed

    async def wait(self, timeout: float) -> bool:
        if self._closed.is_set():
            return False
        if not self.event.is_set():
            try:
                await asyncio.wait_for(self.event.wait(), timeout)
            except TimeoutError:
                return False
        self.event.clear()
        return not self._closed.is_set()


class InProcessNotifier:
    """Subscribers of one event loop, keyed by string."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_EventSubscription]] = {}
        self._closed = asyncio.Event()

    @asynccontextmanager
    async def subscribe(self, key: str) -> AsyncIterator[Subscription]:
        subscription = _EventSubscription(self._closed)
        subscribers = self._subscribers.setdefault(key, set())
        subscribers.add(subscription)
        try:
            yield subscription
        finally:
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(key, None)

    def publish(self, key: str) -> None:
        for subscription in self._subscribers.get(key, ()):
            subscription.event.set()

    def close(self) -> None:
        self._closed.set()
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.event.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def waiting(self, key: str) -> int:
        """How many requests wait on ``key`` (for tests and diagnostics)."""
        return len(self._subscribers.get(key, ()))
