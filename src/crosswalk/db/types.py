"""Column types shared by the schema: timestamps stored as integer epoch milliseconds.

Timestamps are stored as integers (``docs/database.md``, Decisions), at millisecond
precision so that the API's ISO-8601 strings round-trip, and handed to Python as
timezone-aware UTC datetimes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Dialect, Text
from sqlalchemy.types import TypeDecorator

from crosswalk.db.encryption import PREFIX, SecretBox, box_of
from crosswalk.domain.errors import StartupError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLI = timedelta(milliseconds=1)


def to_millis(value: datetime) -> int:
    """Exact integer arithmetic: floats would drift by a millisecond now and then."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // _MILLI


def from_millis(value: int) -> datetime:
    return _EPOCH + value * _MILLI


class EpochMillis(TypeDecorator[datetime]):
    """A UTC ``datetime`` stored as integer milliseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return to_millis(value)
        return int(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_millis(int(value))


class JsonText(TypeDecorator[Any]):
    """A JSON value stored as text (JSON-in-text columns, ``docs/database.md``), parsed on read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


class SecretText(TypeDecorator[str]):
    """Text encrypted at rest with the engine's key (``crosswalk.db.encryption``).

    Writing needs the key; reading a value written before encryption (no ``fernet:``
    prefix) returns it as it is, until migration 0002 encrypts it."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _box(dialect).encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not str(value).startswith(PREFIX):
            return str(value)
        return _box(dialect).decrypt(str(value))


def _box(dialect: Dialect) -> SecretBox:
    box = box_of(dialect)
    if box is None:
        raise StartupError(
            "account secrets are encrypted, and this database engine has no key: "
            "create it with crosswalk.db.encryption.attach (the server does)"
        )
    return box
