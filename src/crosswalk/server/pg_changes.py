"""Several servers on one PostgreSQL database share one stream of change events.

:class:`PostgresChangeRelay` is an ``EventPublisher`` of every unit of work: inside the
transaction, in the round trip of its COMMIT, it sends the unit's events with ``NOTIFY``
(``crosswalk.db.pg_listen``), so they reach the other servers if and only if the
change commits. Its listener hears the other servers' events and hands them to this
server's ``ChangeStream``, which wakes the waits and feeds the SSE streams exactly as
for a local commit. Payloads carry a random id of the sending process, so a process
does not hear its own events twice (its stream already has them). After a lost
listening connection the stream is resynced: every waiter re-reads the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from crosswalk.db.pg_listen import (
    Listener,
    conninfo_for,
    decode_event,
    encode_event,
    notify_statements,
    parse_payload,
)
from crosswalk.domain.events import Event
from crosswalk.ids import new_id
from crosswalk.services.change_stream import ChangeStream

logger = logging.getLogger("crosswalk.server")


class PostgresChangeRelay:
    def __init__(self, engine: Engine, changes: ChangeStream) -> None:
        self.origin = new_id()
        self.changes = changes
        self.listener = Listener(conninfo_for(engine), self._heard, changes.resync)

    def start(self) -> None:
        """Begin listening; returns once ``LISTEN`` is in place."""
        self.listener.start()

    def close(self) -> None:
        self.listener.stop()

    def publish_in_transaction(self, connection: Any, events: Sequence[Event]) -> str | None:
        """The ``NOTIFY`` of the events, sent with the ``COMMIT`` (one round trip)."""
        if not events:
            return None
        return notify_statements(connection, self.origin, [encode_event(e) for e in events])

    def publish_committed(self, events: Sequence[Event]) -> None:
        """Nothing: this process's own stream publishes its committed events."""

    def _heard(self, payload: str) -> None:
        origin, lines = parse_payload(payload)
        if origin == self.origin:
            return
        events = [decode_event(line) for line in lines]
        known = [event for event in events if event is not None]
        if len(known) < len(events):
            logger.warning("an event of an unknown kind from another server; re-checking")
            self.changes.resync()
        self.changes.publish_committed(known)
