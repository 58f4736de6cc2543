"""Rows to API objects: camelCase keys, ISO-8601 UTC timestamps, secrets withheld.

The plan for each row type is computed once from its fields' declared types, so
serializing stays cheap on the hot path: the values come out in one ``attrgetter``
call, and only the fields that may hold a timestamp or an enum (or whose type is not
a plain JSON scalar) are converted.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from operator import attrgetter
from typing import Any, Union, get_args, get_origin, get_type_hints

from crosswalk.domain.rows import Account, Agent
from crosswalk.domain.timestamps import to_iso

# Write-only columns: accepted on create/update, never returned.
_HIDDEN: dict[type[Any], frozenset[str]] = {
    Agent: frozenset({"token_hash"}),
    Account: frozenset({"credentials", "config_json"}),
}

_SCALARS: frozenset[Any] = frozenset({str, int, float, bool, type(None)})


class _Plan:
    """How one row type becomes an API object."""

    __slots__ = ("converted", "keys", "values")

    def __init__(self, kind: type[Any]) -> None:
        hidden = _HIDDEN.get(kind, frozenset())
        hints = get_type_hints(kind)
        shown = [f.name for f in fields(kind) if f.name not in hidden]
        self.keys = tuple(camel(name) for name in shown)
        getter = attrgetter(*shown)
        self.values: Callable[[Any], tuple[Any, ...]] = (
            getter if len(shown) > 1 else lambda row: (getter(row),)
        )
        self.converted = tuple(
            key for name, key in zip(shown, self.keys, strict=True) if not _plain(hints[name])
        )


def _plain(hint: Any) -> bool:
    """Whether every value of type ``hint`` is already a JSON scalar."""
    if get_origin(hint) in (Union, types.UnionType):
        return all(_plain(arg) for arg in get_args(hint))
    return hint in _SCALARS


_PLANS: dict[type[Any], _Plan] = {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _plan(kind: type[Any]) -> _Plan:
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = _Plan(kind)
    return plan


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Enum):
        return value.value
    return value


def to_api(row: Any) -> dict[str, Any]:
    """One row as its API object."""
    plan = _plan(type(row))
    out = dict(zip(plan.keys, plan.values(row), strict=True))
    for key in plan.converted:
        out[key] = _value(out[key])
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
