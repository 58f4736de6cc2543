"""The hot path's shorter road to the driver: statements prepared once, run directly.

The ask/answer path's few statements are written with SQLAlchemy Core, held in named
module-level :class:`HotStatement`s, compiled once per dialect (:class:`Prepared`) and
run on a driver connection, converting
parameters and rows with the same type processors SQLAlchemy would use. Per call
that skips the statement cache key, execution context and result object, which
cost several times the SQLite work itself (``make bench``, database floor). On
SQLite each thread also keeps its own connection (:func:`thread_connection`).
"""

from __future__ import annotations

import dataclasses
import threading
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Connection, Dialect, Engine, Enum, Select, event
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.types import TypeEngine

from crosswalk.db.types import EpochMillis, from_millis
from crosswalk.domain.errors import InvalidInputError


class ThreadConnections:
    """One SQLite connection per thread, held for the thread's life.

    Checking a connection out of SQLAlchemy's pool and back costs about 5 µs, as
    much as the hot path's whole SQLite statement; SQLite connections are cheap
    and local, so each thread keeps its own (as datasette does), closed when the
    engine is disposed. Units of work use it as a SQLAlchemy :class:`Connection`
    (:meth:`sqlalchemy`), the hot statements outside them as the driver connection
    under it (:meth:`get`): one connection, so the pages a write just changed are
    still in its cache for the reads after it. With a second connection for the reads,
    every commit made the reader's cache stale, and it read the pages again (about
    eleven ``pread`` calls per conversation; ``docs/performance.md``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._lock = threading.Lock()
        self._held: list[Connection] = []
        event.listen(engine, "engine_disposed", self._close_all)

    def sqlalchemy(self) -> Connection:
        """The calling thread's own SQLAlchemy connection (open, no transaction begun
        by this call); a new one if the last was closed or invalidated."""
        local = self._local
        connection: Connection | None = getattr(local, "sqlalchemy", None)
        if connection is None or connection.closed or connection.invalidated:
            connection = self._engine.connect()
            local.sqlalchemy = connection
            local.driver = connection.connection.dbapi_connection
            with self._lock:
                self._held.append(connection)
        return connection

    def get(self) -> Any:
        """The driver connection under :meth:`sqlalchemy`'s, outside any transaction of
        SQLAlchemy's (a unit of work's statements run on the unit's connection)."""
        self.sqlalchemy()  # opens (or replaces) it, and with it ``driver``
        return self._local.driver

    def _close_all(self, _connection: Any = None) -> None:
        with self._lock:
            held, self._held = self._held, []
            self._local = threading.local()
        for connection in held:
            if not connection.closed and not connection.invalidated:
                # Closed, not returned to the pool: the pool is being disposed of.
                connection.invalidate()
            connection.close()


_THREAD_CONNECTIONS: weakref.WeakKeyDictionary[Engine, ThreadConnections] = (
    weakref.WeakKeyDictionary()
)
_THREAD_CONNECTIONS_LOCK = threading.Lock()


def thread_connections(engine: Engine) -> ThreadConnections:
    """The per-thread connections of ``engine`` (SQLite only), one set per engine."""
    connections = _THREAD_CONNECTIONS.get(engine)
    if connections is None:
        with _THREAD_CONNECTIONS_LOCK:
            connections = _THREAD_CONNECTIONS.get(engine)
            if connections is None:
                connections = _THREAD_CONNECTIONS[engine] = ThreadConnections(engine)
    return connections


def thread_connection(engine: Engine) -> Any:
    """The calling thread's own driver connection to ``engine`` (SQLite only)."""
    return thread_connections(engine).get()


_Processor = Callable[[Any], Any]
_Setter = Callable[[Any, Any], None]
T = TypeVar("T")


class Prepared:
    """A Core statement compiled once for one dialect, run with the driver directly.

    Parameters are the statement's ``bindparam`` keys (an ``insert(table)`` without
    values takes one per column, keyed by column name); values given inline in the
    statement are bound once, here. Rows come back as tuples with each column's
    result processor applied (enums, timestamps, JSON), as SQLAlchemy would, or as the
    row dataclass whose fields are the columns (:meth:`builder`).
    """

    __slots__ = ("_builders", "_named", "_params", "_readers", "_width", "sql")

    def __init__(
        self, statement: Select[Any] | CompoundSelect[Any] | UpdateBase, dialect: Dialect
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = compiled.positiontup if compiled.positional else list(by_name)
        params: list[tuple[str, str | None, Any, _Processor | None]] = []
        for name in names or ():
            bind = by_name[name]
            if bind.expanding:
                raise ValueError(f"{name}: expanding parameters (IN lists) are not supported")
            processor = bind.type.bind_processor(dialect)
            if bind.required:
                params.append((name, bind.key, None, processor))
            else:  # a value written in the statement: bind it once
                value = processor(bind.value) if processor is not None else bind.value
                params.append((name, None, value, None))
        self._params = tuple(params)
        self._named = not compiled.positional
        readers = []
        for index, column in enumerate(statement.exported_columns):
            reader = _result_reader(column.type, dialect)
            if reader is not None:
                readers.append((index, reader))
        self._readers = tuple(readers)
        self._width = len(statement.exported_columns)
        self._builders: dict[Callable[..., Any], Callable[[Sequence[Any]], Any]] = {}

    def bind_or_refuse(
        self, values: Mapping[str, Any], kind: str
    ) -> Sequence[Any] | dict[str, Any]:
        """``bind``, with a value the column type refuses reported as the caller's error
        (as ``translate_errors`` does)."""
        try:
            return self.bind(values)
        except (LookupError, ValueError, TypeError) as exc:
            raise InvalidInputError(f"{kind}: {exc}") from None

    def bind(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for ``values`` (keyed by bindparam key)."""
        bound: list[Any] = []
        for _name, key, value, processor in self._params:
            if key is not None:
                value = values[key]
                if processor is not None and value is not None:
                    value = processor(value)
            bound.append(value)
        if self._named:
            return {param[0]: value for param, value in zip(self._params, bound, strict=True)}
        return bound

    def convert(self, row: Sequence[Any]) -> list[Any]:
        return _converted(row, self._readers)

    def builder(self, model: Callable[..., T]) -> Callable[[Sequence[Any]], T]:
        """What makes ``model(*self.convert(row))`` of a driver row (made once per model)."""
        build = self._builders.get(model)
        if build is None:
            build = self._builders[model] = _row_builder(model, self._readers, self._width)
        return build


def _converted(row: Sequence[Any], readers: tuple[tuple[int, _Processor], ...]) -> list[Any]:
    """The row's values, each non-None one a reader is given for converted by it."""
    values = list(row)
    for index, reader in readers:
        value = values[index]
        if value is not None:
            values[index] = reader(value)
    return values


def _row_builder(
    model: Callable[..., T], readers: tuple[tuple[int, _Processor], ...], width: int
) -> Callable[[Sequence[Any]], T]:
    """``model(*converted_row)``, made faster for the domain's rows.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, a
    call per field that costs more than the whole row's conversion. When ``model`` is a
    frozen dataclass with slots whose ``__init__`` does nothing else (every field taken
    in order, one per column, no ``__post_init__``), the row is made the way pickle
    makes one: a bare instance, each slot set through its descriptor, values converted
    on the way. The result is the same object. Any other model is called.
    """
    setters = _slot_setters(model, width)
    if setters is None:
        return lambda row: model(*_converted(row, readers))
    converted = {index for index, _ in readers}
    plain = tuple((setters[i], i) for i in range(width) if i not in converted)
    read = tuple((setters[i], i, reader) for i, reader in readers)
    cls: type[T] = model  # type: ignore[assignment]  # _slot_setters checked it is a class
    new = object.__new__

    def build(row: Sequence[Any]) -> T:
        made = new(cls)
        for setter, index in plain:
            setter(made, row[index])
        for setter, index, reader in read:
            value = row[index]
            setter(made, None if value is None else reader(value))
        return made

    return build


def _slot_setters(model: Callable[..., Any], width: int) -> list[_Setter] | None:
    """The slot setters of ``model``'s fields in order, if ``model(*values)`` only sets
    ``width`` fields (see ``_row_builder``); else None."""
    if not isinstance(model, type) or not dataclasses.is_dataclass(model):
        return None
    params = model.__dataclass_params__  # type: ignore[attr-defined]
    fields = dataclasses.fields(model)
    if (
        not params.frozen
        or not params.init
        or "__slots__" not in model.__dict__
        or hasattr(model, "__post_init__")
        or len(fields) != width
        or not all(field.init for field in fields)
        or any(isinstance(field.type, dataclasses.InitVar) for field in fields)
    ):
        return None
    descriptors = [model.__dict__.get(field.name) for field in fields]
    if not all(isinstance(d, types.MemberDescriptorType) for d in descriptors):
        return None
    return [d.__set__ for d in descriptors]  # type: ignore[union-attr]


def _result_reader(type_: TypeEngine[Any], dialect: Dialect) -> _Processor | None:
    """What turns a driver value into the column's Python value (None values aside).

    The types on the hot path get the one function that matters instead of
    SQLAlchemy's layered processor (same result, a third of the calls); any other
    type gets SQLAlchemy's own.
    """
    if isinstance(type_, EpochMillis):
        return from_millis
    if isinstance(type_, Enum) and type_.enum_class is not None:
        return {member.value: member for member in type_.enum_class}.__getitem__
    return type_.result_processor(dialect, None)


class HotStatement:
    """A hot-path statement, held in a named module-level constant: the Core statement
    and its :class:`Prepared` form for each dialect it has run on (compiled on first
    use). Holding the compiled form on the statement's own object, instead of in a cache
    keyed by ``id()``, keeps it alive exactly as long as the statement."""

    __slots__ = ("_by_dialect", "statement")

    def __init__(self, statement: Select[Any] | CompoundSelect[Any] | UpdateBase) -> None:
        self.statement = statement
        self._by_dialect: dict[tuple[str, str, str], Prepared] = {}

    def prepared(self, dialect: Dialect) -> Prepared:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        prepared = self._by_dialect.get(key)
        if prepared is None:
            prepared = self._by_dialect[key] = Prepared(self.statement, dialect)
        return prepared


#: PostgreSQL's transaction-scoped advisory lock on a name (``_base.serialize_on``).
ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


class DirectCursor:
    """Runs :class:`HotStatement`s inside ``SqlAlchemyRepository._direct``."""

    __slots__ = ("_cursor", "_dialect", "_kind")

    def __init__(self, cursor: Any, dialect: Dialect, kind: str) -> None:
        self._cursor = cursor
        self._dialect = dialect
        self._kind = kind

    def _execute(self, statement: HotStatement, values: Mapping[str, Any]) -> Prepared:
        prepared = statement.prepared(self._dialect)
        params = prepared.bind_or_refuse(values, self._kind)
        self._cursor.execute(prepared.sql, params)
        return prepared

    def first(self, statement: HotStatement, values: Mapping[str, Any]) -> list[Any] | None:
        """The first row, or None. The statement runs to completion (for ``RETURNING``
        and for SQLite's snapshot to end), so use it where at most one row matches."""
        prepared = self._execute(statement, values)
        rows = self._cursor.fetchall()
        return prepared.convert(rows[0]) if rows else None

    def serialize_on(self, name: str) -> None:
        """``_base.serialize_on`` in this cursor's transaction: until it ends, every
        other transaction serializing on ``name`` waits. Nothing on SQLite, where a write
        transaction runs alone."""
        if self._dialect.name == "postgresql":
            self._cursor.execute(ADVISORY_LOCK_SQL, (name,))

    def all(self, statement: HotStatement, values: Mapping[str, Any]) -> list[list[Any]]:
        prepared = self._execute(statement, values)
        return [prepared.convert(row) for row in self._cursor.fetchall()]

    def first_as(
        self, model: Callable[..., T], statement: HotStatement, values: Mapping[str, Any]
    ) -> T | None:
        """``first``, the row made ``model(*row)`` (see ``Prepared.builder``)."""
        prepared = self._execute(statement, values)
        rows = self._cursor.fetchall()
        return prepared.builder(model)(rows[0]) if rows else None

    def all_as(
        self, model: Callable[..., T], statement: HotStatement, values: Mapping[str, Any]
    ) -> list[T]:
        """``all``, each row made ``model(*row)`` (see ``Prepared.builder``)."""
        prepared = self._execute(statement, values)
        build = prepared.builder(model)
        return [build(row) for row in self._cursor.fetchall()]
