"""Timestamps as the domain keeps them: timezone-aware UTC, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, truncated to the millisecond precision the database keeps."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_iso(value: datetime) -> str:
    """``2026-11-26T06:55:43.764Z``, as JavaScript's ``Date.toJSON``: the API's form."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
