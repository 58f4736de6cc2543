"""The SQLAlchemy unit of work: one transaction, its change events, published on commit.

A service opens a unit of work for each change it makes::

    with self.unit_of_work() as uow:
        conversation = self.conversations.create(...)
        uow.record(QuestionAsked(...))

Inside the ``with`` block every repository call of this thread runs on the unit's
one connection and transaction (the adapters look it up with
:func:`crosswalk.db.transaction.current_connection`); nothing commits until the block ends. Then:

1. each publisher's ``publish_in_transaction`` runs inside the still-open
   transaction (a PostgreSQL ``NOTIFY`` publisher goes here: NOTIFY is delivered
   only if the transaction commits). It may return statements to send with the
   ``COMMIT`` instead of running them: they go in the same round trip;
2. the transaction commits;
3. each publisher's ``publish_committed`` runs with the same events (the in-process
   :class:`crosswalk.services.change_stream.ChangeStream` wakes its waiters here).

An exception rolls back and drops the events: nobody hears of a change that did
not happen. A unit of work opened inside another on the same thread joins it (its
events go to the outer one, which commits once). The block must not ``await``:
another request on the same event loop would run inside the transaction.

Repository calls outside any unit of work keep running in their own short
transaction, which is how reads (and the read-only long polls) go.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol

from sqlalchemy import Connection, Engine

from crosswalk.db.engine import is_sqlite
from crosswalk.db.repositories.sqlalchemy._base import (
    commit_with,
    serialize_on,
    translate_errors,
)
from crosswalk.db.repositories.sqlalchemy._prepared import thread_connections
from crosswalk.db.transaction import ACTIVE, Transaction
from crosswalk.domain.events import Event


class EventPublisher(Protocol):
    """Where a unit of work hands its events; ``ChangeStream`` is one, a PostgreSQL
    ``NOTIFY`` publisher would be another."""

    def publish_in_transaction(self, connection: Connection, events: Sequence[Event]) -> str | None:
        """Called inside the transaction, just before COMMIT; raising rolls it back.
        Returns the statements (SQL without parameters, ``;``-separated) to send in the
        round trip that commits, if any (only on PostgreSQL)."""
        ...

    def publish_committed(self, events: Sequence[Event]) -> None:
        """Called after the COMMIT succeeded; must not raise."""
        ...


class SqlAlchemyUnitOfWork:
    """One unit of work (use each instance for one ``with`` block)."""

    def __init__(
        self,
        engine: Engine,
        publishers: Sequence[EventPublisher] = (),
    ) -> None:
        self._engine = engine
        self._publishers = publishers
        self._transaction: Transaction | None = None
        # On SQLite each thread keeps its connection between units of work.
        self._held = thread_connections(engine) if is_sqlite(engine) else None

    def __enter__(self) -> SqlAlchemyUnitOfWork:
        outer = ACTIVE.by_engine.get(self._engine)
        if outer is not None:
            outer.depth += 1
            self._transaction = outer
            return self
        held = self._held
        with translate_errors("transaction"):
            connection = held.sqlalchemy() if held is not None else self._engine.connect()
            try:
                connection.begin()
            except BaseException:
                if held is None:
                    connection.close()
                raise
        self._transaction = ACTIVE.by_engine[self._engine] = Transaction(connection)
        return self

    def record(self, *events: Event) -> None:
        """Publish these events if (and once) the transaction commits."""
        if self._transaction is None:
            raise RuntimeError("record() outside the unit of work's with block")
        self._transaction.events.extend(events)

    def serialize(self, *key: str | None) -> None:
        """``serialize_on`` (a PostgreSQL advisory lock; nothing on SQLite) in this
        unit's transaction."""
        if self._transaction is None:
            raise RuntimeError("serialize() outside the unit of work's with block")
        serialize_on(self._transaction.connection, *key)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        transaction = self._transaction
        assert transaction is not None, "__exit__ without __enter__"
        self._transaction = None
        transaction.depth -= 1
        if transaction.depth > 0:
            return  # the outer unit of work commits (or rolls back) everything
        del ACTIVE.by_engine[self._engine]
        connection = transaction.connection
        events = tuple(transaction.events)
        try:
            if exc_type is not None:
                connection.rollback()
                return
            try:
                sent_with_commit = [
                    statements
                    for publisher in self._publishers
                    if (statements := publisher.publish_in_transaction(connection, events))
                ]
                if sent_with_commit:
                    commit_with(connection, sent_with_commit)
                with translate_errors("transaction"):
                    connection.commit()  # after commit_with: nothing left to send
            except BaseException:
                connection.rollback()
                raise
        finally:
            if self._held is None:
                connection.close()
        for publisher in self._publishers:
            publisher.publish_committed(events)
