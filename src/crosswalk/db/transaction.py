"""Which transaction a thread has open: the link between a unit of work and the adapters.

``crosswalk.db.unit_of_work`` registers its connection here for the thread and engine
it runs on; the SQLAlchemy adapters ask :func:`current_connection` and, when there is
one, run on it instead of opening their own transaction.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine

from crosswalk.domain.events import Event


class Transaction:
    __slots__ = ("connection", "depth", "events")

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.events: list[Event] = []
        self.depth = 1


class _Active(threading.local):
    def __init__(self) -> None:
        self.by_engine: dict[Engine, Transaction] = {}


ACTIVE = _Active()


def current_connection(engine: Engine) -> Connection | None:
    """The connection of the unit of work this thread has open on ``engine``, if any."""
    transaction = ACTIVE.by_engine.get(engine)
    return None if transaction is None else transaction.connection
