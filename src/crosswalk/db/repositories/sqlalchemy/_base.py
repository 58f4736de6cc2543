"""What every SQLAlchemy adapter shares: connections, error translation, rows, paging.

Inside a unit of work (``crosswalk.db.unit_of_work``) every method runs on the unit's
connection and transaction. Outside one, each method runs in its own short
transaction: writes begin ``IMMEDIATE`` on SQLite (see ``crosswalk.db.engine``), reads
begin deferred.
Driver errors never escape: ``translate_errors`` turns them into the project's
error tree with a message naming the entity.

The ask/answer hot path takes a shorter road (``_direct``, ``_select``): module-level
:class:`HotStatement`s, compiled once per dialect and run on the driver connection (see
``_prepared``); ``tests/integration/db/test_hot_path_equivalence.py`` proves they return
what the plain SQLAlchemy path returns.
A single-statement read on SQLite runs without ``BEGIN``: SQLite gives every
statement its own consistent snapshot.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    and_,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.schema import ColumnCollectionConstraint

from crosswalk.db.driver_errors import Failure, classify
from crosswalk.db.engine import READONLY, is_sqlite
from crosswalk.db.repositories.sqlalchemy._prepared import (
    ADVISORY_LOCK_SQL,
    DirectCursor,
    HotStatement,
    thread_connections,
)
from crosswalk.db.schema import metadata
from crosswalk.db.transaction import current_connection
from crosswalk.db.types import from_millis, to_millis
from crosswalk.domain.errors import (
    ConflictError,
    CrosswalkError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
)
from crosswalk.domain.rows import MAX_PAGE_SIZE, Paged
from crosswalk.domain.timestamps import utcnow

T = TypeVar("T")


def values_of(*values: Any) -> tuple[Any, ...]:
    """A row's values as they are: ``_select``'s ``model`` for rows that are not one
    dataclass (a join's)."""
    return values


class SqlAlchemyRepository:
    """Base of the adapters: holds the engine, opens read and write transactions."""

    kind: str = "row"  # the entity's name in error messages, e.g. "task"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = is_sqlite(engine)
        self._connections = thread_connections(engine) if self._sqlite else None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        joined = current_connection(self._engine)
        if joined is not None:
            with translate_errors(self.kind):
                yield joined
        else:
            with translate_errors(self.kind), self._engine.begin() as conn:
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        joined = current_connection(self._engine)
        if joined is not None:
            with translate_errors(self.kind):
                yield joined
        else:
            with (
                translate_errors(self.kind),
                self._engine.connect().execution_options(**{READONLY: True}) as conn,
                conn.begin(),
            ):
                yield conn

    @contextmanager
    def _direct(self, *, write: bool = False) -> Iterator[DirectCursor]:
        """A transaction on the driver connection, for :class:`HotStatement`s.

        Inside a unit of work: its connection and transaction. Otherwise the thread's
        own SQLite connection (or a pooled one on other drivers); writes begin
        ``IMMEDIATE`` on SQLite, reads there must be one statement (each runs in its own
        snapshot). Elsewhere writes open their transaction implicitly, and reads, one
        statement too, run in autocommit: one round trip to the server, not three
        (``BEGIN``, the statement, ``COMMIT``).
        """
        dialect = self._engine.dialect
        joined = current_connection(self._engine)
        if joined is not None:
            driver_connection = joined.connection.dbapi_connection
            assert driver_connection is not None, "a unit of work's connection is open"
            with translate_errors(self.kind, dialect.loaded_dbapi):
                cursor = driver_connection.cursor()
                try:
                    yield DirectCursor(cursor, dialect, self.kind)
                finally:
                    cursor.close()
            return
        if self._connections is None:
            with self._pooled(write=write) as pooled_cursor:
                yield pooled_cursor
            return
        connection = self._connections.get()
        with translate_errors(self.kind, dialect.loaded_dbapi):
            cursor = connection.cursor()
            try:
                if write:
                    cursor.execute("BEGIN IMMEDIATE")
                yield DirectCursor(cursor, dialect, self.kind)
                if write:
                    connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()

    @contextmanager
    def _pooled(self, *, write: bool) -> Iterator[DirectCursor]:
        """``_direct`` on a connection from the pool (a network database): a write in
        its own transaction, a read in autocommit."""
        dialect = self._engine.dialect
        pooled = self._engine.raw_connection()
        connection: Any = pooled.dbapi_connection  # psycopg's: has ``autocommit``
        try:
            with translate_errors(self.kind, dialect.loaded_dbapi):
                if not write:
                    connection.autocommit = True
                cursor = connection.cursor()
                try:
                    yield DirectCursor(cursor, dialect, self.kind)
                    if write:
                        connection.commit()
                except BaseException:
                    if write:
                        connection.rollback()
                    raise
                finally:
                    cursor.close()
        finally:
            if not write and not connection.closed:
                connection.autocommit = False  # as the pool hands connections out
            pooled.close()

    def _select(
        self, model: Callable[..., T], statement: HotStatement, values: Mapping[str, Any]
    ) -> list[T]:
        """A single hot SELECT: each row, its values converted as SQLAlchemy would, as
        ``model(*values)`` (a row dataclass whose fields are the columns, or ``tuple``'s
        like ``values_of``). On SQLite, outside a unit of work, it runs straight on the
        thread's connection, in the statement's own snapshot, with no transaction or
        cursor bookkeeping (the hot path's most frequent call)."""
        if self._connections is None or current_connection(self._engine) is not None:
            with self._direct() as db:
                return db.all_as(model, statement, values)
        dialect = self._engine.dialect
        prepared = statement.prepared(dialect)
        params = prepared.bind_or_refuse(values, self.kind)
        with translate_errors(self.kind, dialect.loaded_dbapi):
            rows = self._connections.get().execute(prepared.sql, params).fetchall()
        build = prepared.builder(model)
        return [build(row) for row in rows]

    def _update_row(
        self,
        conn: Connection,
        table: Table,
        model: type[T],
        id: str,
        values: Mapping[str, Any],
    ) -> T:
        """UPDATE row ``id`` with ``values`` and a fresh ``updated_at``; return the row
        as written (``NotFoundError`` when there is none)."""
        row = conn.execute(
            update(table)
            .where(table.c.id == id)
            .values({**values, "updated_at": utcnow()})
            .returning(*columns_for(table, model))
        ).first()
        if row is None:
            raise self._not_found(id)
        return model(*row)

    def _find_by_ref(self, table: Table, model: type[T], ref: str, limit: int) -> list[T]:
        """Rows whose id is ``ref``, then those named ``ref``, then those whose id starts
        with it (compared exactly: ``LIKE`` ignores case on SQLite, ids do not)."""
        c = table.c
        matches = or_(c.id == ref, c.name == ref, func.substr(c.id, 1, len(ref)) == ref)
        rank = case((c.id == ref, 0), (c.name == ref, 1), else_=2)
        query = (
            select(*columns_for(table, model))
            .where(matches)
            .order_by(rank, c.created_at, c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [model(*row) for row in conn.execute(query)]

    def _not_found(self, id: str) -> NotFoundError:
        return NotFoundError(self.kind, id)


class translate_errors:  # noqa: N801 - used as ``with translate_errors(...)``, like a function
    """The one translation of database failures into ``CrosswalkError``s naming ``kind``:
    SQLAlchemy's exceptions, and (given the DB-API ``driver`` module) the driver's own,
    raised on the hot path where SQLAlchemy is bypassed.

    A class, not a ``@contextmanager`` generator: it wraps every statement of the hot
    path (a dozen per conversation), and entering and leaving a generator-based context
    costs several times as much."""

    __slots__ = ("driver", "kind")

    def __init__(self, kind: str, driver: Any = None) -> None:
        self.kind = kind
        self.driver = driver

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, CrosswalkError) or not isinstance(exc, Exception):
            return
        kind = self.kind
        if isinstance(exc, StatementError):
            # A value the bind processors refuse (unknown enum string, non-boolean
            # flag, JSON that does not serialize) fails before the database sees it.
            if not isinstance(exc, DBAPIError) and isinstance(
                exc.orig, LookupError | ValueError | TypeError
            ):
                raise InvalidInputError(f"{kind}: {exc.orig}") from None
            if not isinstance(exc, DBAPIError):
                return
            raise driver_error(kind, exc.orig if exc.orig is not None else exc) from exc
        if self.driver is not None and isinstance(exc, self.driver.Error):
            raise driver_error(kind, exc) from exc


def driver_error(kind: str, exc: BaseException) -> CrosswalkError:
    """The project's error for driver exception ``exc``, classified by its SQLSTATE
    (PostgreSQL) or result code (SQLite): see ``crosswalk.db.driver_errors``."""
    error = classify(exc)
    failure = error.failure
    if failure is Failure.UNIQUE:
        columns = ", ".join(error.columns or constraint_columns(error.constraint))
        return ConflictError(
            f"{kind} conflicts with an existing one ({columns or 'a unique value'} already taken)"
        )
    if failure is Failure.FOREIGN_KEY:
        return InvalidInputError(f"{kind} refers to something that does not exist")
    if failure is Failure.NOT_NULL:
        column = error.columns[0] if error.columns else "a value"
        return InvalidInputError(f"{kind}: {column} is required", field=column)
    if failure is Failure.CHECK:
        return InvalidInputError(
            f"{kind}: a value is outside its allowed set ({error.constraint or exc})"
        )
    if failure is Failure.BAD_VALUE:
        return InvalidInputError(f"{kind}: a value does not fit its column ({exc})")
    if failure is Failure.RETRY:
        return RetryableError(f"{kind}: the database asked to retry the transaction ({exc})")
    return CrosswalkError(f"database error while writing {kind}: {exc}")


def constraint_columns(name: str | None) -> tuple[str, ...]:
    """``table.column`` names of schema constraint or index ``name`` (PostgreSQL
    reports a unique violation by the constraint's name, SQLite by its columns)."""
    if name is None:
        return ()
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if constraint.name == name and isinstance(constraint, ColumnCollectionConstraint):
                return tuple(f"{table.name}.{column.name}" for column in constraint.columns)
        for index in table.indexes:
            if index.name == name:
                return tuple(f"{table.name}.{column.name}" for column in index.columns)
    return ()


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def field_names(model: type[Any]) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(model)
    if names is None:
        names = _FIELD_NAMES[model] = tuple(f.name for f in fields(model))
    return names


def columns_for(table: Table, model: type[Any]) -> list[ColumnElement[Any]]:
    """The table's columns in the order of ``model``'s fields, for ``model(*row)``."""
    return [table.c[name] for name in field_names(model)]


def row_to(model: type[T], row: Row[Any] | Mapping[str, Any]) -> T:
    """Build the dataclass ``model`` from a row whose keys are its field names."""
    mapping = row._mapping if isinstance(row, Row) else row
    return model(**{name: mapping[name] for name in field_names(model)})


def serialize_on(conn: Connection, *key: str | None) -> None:
    """Hold, until this transaction ends, a lock that every other transaction passing
    the same ``key`` waits for, so a read-check-write runs one at a time per key.

    On PostgreSQL (read committed) two transactions may otherwise both check, both
    see no conflict and both write: two dependency edges closing a cycle, two callers
    picking the same account. A transaction-scoped advisory lock orders them, and the
    second's next statement sees what the first committed. SQLite needs nothing:
    every write transaction there begins ``IMMEDIATE`` and so runs alone.
    """
    if conn.dialect.name != "postgresql":
        return
    name = "\x1f".join(part or "" for part in key)
    # Every ask with a client-chosen id (all of `cw ask`'s) takes this lock.
    execute_on_driver(conn, ADVISORY_LOCK_SQL, (name,))


def execute_on_driver(conn: Connection, sql: str, *params: tuple[Any, ...]) -> None:
    """Run ``sql`` (in the driver's own placeholder style) once per ``params`` (once
    without parameters when none are given), straight on the driver connection under
    ``conn``, inside its transaction. For the statements
    every ask or answer makes outside the repositories (an advisory lock, a ``NOTIFY``):
    SQLAlchemy's statement building and execution cost several times the round trip's
    own CPU, as on the hot path (``_prepared``)."""
    driver = conn.connection.dbapi_connection
    assert driver is not None, "the transaction's connection is open"
    with translate_errors("transaction", conn.dialect.loaded_dbapi):
        cursor = driver.cursor()
        try:
            for values in params or (None,):
                cursor.execute(sql, values)
        finally:
            cursor.close()


def commit_with(conn: Connection, statements: Sequence[str]) -> None:
    """Send ``statements`` (SQL without parameters) and ``COMMIT`` in one round trip,
    ending the transaction of ``conn`` (PostgreSQL). Without parameters the driver sends
    them as one simple query, run in order; an error in one skips the rest, so the
    transaction commits only if all of them succeeded. The driver then finds the
    transaction over, and ``conn.commit()`` sends nothing."""
    execute_on_driver(conn, "; ".join((*statements, "COMMIT")))


def require_row(conn: Connection, table: Table, kind: str, id: str) -> None:
    """Raise ``NotFoundError(kind, id)`` unless ``table`` has a row with this id.

    Called before a write that references the row, so the caller learns which
    reference is wrong instead of reading a bare foreign key failure.
    """
    if conn.execute(select(table.c.id).where(table.c.id == id)).first() is None:
        raise NotFoundError(kind, id)


def checked_changes(kind: str, changes: Mapping[str, Any], allowed: type[Any]) -> dict[str, Any]:
    """``changes`` as a plain dict, refusing keys the ``*Update`` TypedDict lacks
    (SQLAlchemy would fail on them with a compile error, not an input error)."""
    unknown = sorted(set(changes) - set(allowed.__annotations__))
    if unknown:
        raise InvalidInputError(f"{kind} has no field '{unknown[0]}'", field=unknown[0])
    return dict(changes)


def count_where(conn: Connection, table: Table, condition: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(condition)).scalar_one())


def clamp_limit(limit: int) -> int:
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    return min(limit, MAX_PAGE_SIZE)


# --- keyset pagination on (created_at, id) ------------------------------------


def encode_cursor(created_at: datetime, id: str) -> str:
    raw = f"{to_millis(created_at)}:{id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        millis, _, id = base64.urlsafe_b64decode(padded).decode().partition(":")
        if not id:
            raise ValueError(cursor)
        return from_millis(int(millis)), id
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError(f"cursor '{cursor}' is not valid", field="cursor") from None


def paginate(
    conn: Connection,
    query: Select[Any],
    table: Table,
    model: type[T],
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
) -> Paged[T]:
    """Run ``query`` one page at a time, ordered by (created_at, id)."""
    limit = clamp_limit(limit)
    created, ident = table.c.created_at, table.c.id
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        if newest_first:
            query = query.where(
                or_(created < after_time, and_(created == after_time, ident < after_id))
            )
        else:
            query = query.where(
                or_(created > after_time, and_(created == after_time, ident > after_id))
            )
    order = (created.desc(), ident.desc()) if newest_first else (created.asc(), ident.asc())
    rows = conn.execute(query.order_by(*order).limit(limit + 1)).all()
    items = [row_to(model, row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]._mapping
        next_cursor = encode_cursor(last["created_at"], last["id"])
    return Paged(items=items, next_cursor=next_cursor)
