"""What a database driver's error means, read from its code, never from its message.

PostgreSQL gives every error a SQLSTATE (``psycopg``'s ``exc.sqlstate``) and names the
constraint, table and column in structured fields (``exc.diag``); SQLite gives an
extended result code (``exc.sqlite_errorname``, e.g. ``SQLITE_CONSTRAINT_UNIQUE``) and
names the columns only in its message, from which just the names are taken.
:func:`classify` turns either into a :class:`DriverError`; the adapters turn that
into the project's error tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Failure(Enum):
    UNIQUE = "unique"  # a unique constraint or primary key is taken
    FOREIGN_KEY = "foreign_key"  # a reference to a row that does not exist
    NOT_NULL = "not_null"  # a required value is missing
    CHECK = "check"  # a CHECK constraint (enum values, flags) refused the value
    BAD_VALUE = "bad_value"  # the column's type refuses the value (too long, wrong type)
    RETRY = "retry"  # serialization failure or deadlock: the transaction may be retried
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DriverError:
    failure: Failure
    code: str | None  # the SQLSTATE or SQLite result code name
    constraint: str | None = None
    columns: tuple[str, ...] = ()  # as ``table.column``


# PostgreSQL: Appendix A of its manual, "PostgreSQL Error Codes".
_PG_CODES = {
    "23505": Failure.UNIQUE,
    "23503": Failure.FOREIGN_KEY,
    "23502": Failure.NOT_NULL,
    "23514": Failure.CHECK,
    "40001": Failure.RETRY,  # serialization_failure
    "40P01": Failure.RETRY,  # deadlock_detected
    "42804": Failure.BAD_VALUE,  # datatype_mismatch
}
_PG_CLASSES = {"22": Failure.BAD_VALUE}  # data exceptions: too long, out of range, ...

_SQLITE_CODES = {
    "SQLITE_CONSTRAINT_UNIQUE": Failure.UNIQUE,
    "SQLITE_CONSTRAINT_PRIMARYKEY": Failure.UNIQUE,
    "SQLITE_CONSTRAINT_FOREIGNKEY": Failure.FOREIGN_KEY,
    "SQLITE_CONSTRAINT_NOTNULL": Failure.NOT_NULL,
    "SQLITE_CONSTRAINT_CHECK": Failure.CHECK,
    "SQLITE_MISMATCH": Failure.BAD_VALUE,
    "SQLITE_TOOBIG": Failure.BAD_VALUE,
}
# SQLite names what failed after the colon: "UNIQUE constraint failed: agents.name",
# "CHECK constraint failed: ck_agents_status".
_SQLITE_NAMES = re.compile(r"failed: (.+)$")


def classify(exc: BaseException) -> DriverError:
    """The meaning of driver exception ``exc`` (or of SQLAlchemy's wrapper's ``orig``)."""
    orig: Any = getattr(exc, "orig", None) or exc
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return _postgres(orig, str(sqlstate))
    errorname = getattr(orig, "sqlite_errorname", None)
    if errorname is not None:
        return _sqlite(orig, str(errorname))
    return DriverError(Failure.OTHER, None)


def _postgres(orig: Any, sqlstate: str) -> DriverError:
    failure = _PG_CODES.get(sqlstate) or _PG_CLASSES.get(sqlstate[:2], Failure.OTHER)
    diag = getattr(orig, "diag", None)
    table = getattr(diag, "table_name", None)
    column = getattr(diag, "column_name", None)
    columns = (f"{table}.{column}",) if table and column else ()
    return DriverError(failure, sqlstate, getattr(diag, "constraint_name", None), columns)


def _sqlite(orig: Any, errorname: str) -> DriverError:
    failure = _SQLITE_CODES.get(errorname, Failure.OTHER)
    if errorname in ("SQLITE_BUSY", "SQLITE_LOCKED") or errorname.startswith("SQLITE_BUSY_"):
        failure = Failure.RETRY
    match = _SQLITE_NAMES.search(str(orig))
    names = tuple(name.strip() for name in match.group(1).split(",")) if match else ()
    if failure is Failure.CHECK:
        return DriverError(failure, errorname, names[0] if names else None)
    return DriverError(failure, errorname, None, names)
