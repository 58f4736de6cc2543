"""Rows to API objects: camelCase keys, ISO-8601 UTC timestamps, secrets withheld.

The plan for each row type is computed once, so serializing stays cheap on the
hot path.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from crosswalk.domain.rows import Account, Agent
from crosswalk.domain.timestamps import to_iso

# Write-only columns: accepted on create/update, never returned.
_HIDDEN: dict[type[Any], frozenset[str]] = {
    Agent: frozenset({"token_hash"}),
    Account: frozenset({"credentials", "config_json"}),
}

_PLANS: dict[type[Any], tuple[tuple[str, str], ...]] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plan(kind: type[Any]) -> tuple[tuple[str, str], ...]:
    plan = _PLANS.get(kind)
    if plan is None:
        hidden = _HIDDEN.get(kind, frozenset())
        plan = tuple((f.name, camel(f.name)) for f in fields(kind) if f.name not in hidden)
        _PLANS[kind] = plan
    return plan


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Enum):
        return value.value
    return value


def to_api(row: Any) -> dict[str, Any]:
    """One row as its API object."""
    out = {key: _value(getattr(row, name)) for name, key in _plan(type(row))}
    if isinstance(row, Account):
        out["hasCredentials"] = row.credentials is not None
        out["hasConfig"] = row.config_json is not None
    return out


def to_api_list(rows: list[Any]) -> list[dict[str, Any]]:
    return [to_api(row) for row in rows]


def jsonable(value: Any) -> Any:
    """Any result (rows, lists, dicts of them) as plain JSON values."""
    if is_dataclass(value) and not isinstance(value, type):
        return to_api(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    return _value(value)
