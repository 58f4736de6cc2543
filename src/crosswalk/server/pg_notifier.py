"""The notifier of a server on PostgreSQL: wakes its own waiters and every other
server's, through ``LISTEN``/``NOTIFY`` (``crosswalk.db.pg_listen``).

``publish(key)`` wakes this process's waiters at once and sends the key with
``NOTIFY`` right after the writer's commit; each other server's listener hears it
and wakes its own waiters. Payloads carry a random id of the sending process, so a
process does not wake its waiters twice for its own writes.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Engine

from crosswalk.db.pg_listen import Listener, conninfo_for, notify, parse_payload
from crosswalk.ids import new_id
from crosswalk.services.notifier import InProcessNotifier, Subscription

logger = logging.getLogger("crosswalk.server")


class PostgresNotifier:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.origin = new_id()
        self.local = InProcessNotifier()
        self.listener = Listener(conninfo_for(engine), self._heard, self.local.wake_all)

    def start(self) -> None:
        """Begin listening (returns once ``LISTEN`` is in place)."""
        self.listener.start()

    @asynccontextmanager
    async def subscribe(self, key: str) -> AsyncIterator[Subscription]:
        async with self.local.subscribe(key) as subscription:
            yield subscription

    def publish(self, key: str) -> None:
        self.local.publish(key)
        try:
            with self._engine.begin() as connection:
                notify(connection, self.origin, [key])
        except Exception as exc:  # the write is committed; the others re-check later
            logger.warning("could not tell the other servers about %s: %s", key, exc)

    def close(self) -> None:
        self.local.close()
        self.listener.stop()

    @property
    def closed(self) -> bool:
        return self.local.closed

    def waiting(self, key: str) -> int:
        """How many requests of this process wait on ``key``."""
        return self.local.waiting(key)

    def _heard(self, payload: str) -> None:
        origin, keys = parse_payload(payload)
        if origin == self.origin:
            return
        for key in keys:
            self.local.publish(key)
