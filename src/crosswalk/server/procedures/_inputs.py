"""Input validation shared by every procedure: camelCase fields, unknown keys refused,
booleans and integers strict, no NUL in any string, client-chosen ids checked against
the id alphabet.

Pydantic's lax mode would turn ``"5"`` into ``5`` and ``"yes"`` into ``True``; a
client that sends those has a bug we want it to hear about. Pydantic's strict mode
would also refuse enum values given as strings (all JSON can send), so the rule is
applied here instead, to every field whose type is ``bool`` or ``int``.

NUL (U+0000) is refused in every string of every field, however deep (a page's
document, a key of a map): PostgreSQL's text cannot hold it (psycopg refuses to send
it), and SQLite would store what PostgreSQL refuses, so one rule here keeps both
databases alike, and nothing crosswalk stores has a use for it.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Annotated, Any, ClassVar, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from crosswalk.domain.targets import MAX_PATH_LENGTH, repo_path
from crosswalk.ids import ID_LENGTH
from crosswalk.services.conversations import MAX_TEXT_LENGTH

_CLIENT_ID_RE = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}")


def is_client_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id (what ``ClientId`` accepts)."""
    return _CLIENT_ID_RE.fullmatch(value) is not None


def _client_id(value: str) -> str:
    if not is_client_id(value):
        raise PydanticCustomError(
            "client_id",
            f"a client-chosen id is exactly {ID_LENGTH} characters of A-Z, a-z, 0-9, "
            "'_' and '-' (a nanoid, as cw makes); leave it out to let the server choose",
        )
    return value


def _one_line(value: str) -> str:
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (line breaks, NUL, escapes): it is used "
            "as a file name or a command-line argument",
        )
    return value


def _nul_at(value: Any) -> str | None:
    """Where a string in ``value`` (a JSON value) holds NUL: ``""`` for ``value`` itself,
    ``"[2].text"`` below it; ``None`` if nowhere. A walk without recursion."""
    pending: list[tuple[Any, str]] = [(value, "")]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return where
                pending.append((child, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, list):
            pending.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return None


def _refuse_nul(value: Any) -> None:
    if isinstance(value, str):  # most fields: one C-speed search
        if "\x00" not in value:
            return
        where: str | None = ""
    elif isinstance(value, dict | list):
        where = _nul_at(value)
        if where is None:
            return
    else:
        return
    raise PydanticCustomError(
        "nul_character",
        "must not contain the NUL character (U+0000){where}: remove it",
        {"where": f" (at {where})" if where else ""},
    )


Id = Annotated[str, Field(min_length=1, max_length=64)]
#: A value that becomes a file path, a session id handed to an agent CLI or a command
#: argument: one line, no control characters.
PathText = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(_one_line)]
#: An id the client picks for a new row (idempotent retries): it later travels as an
#: SSE event id, a header value and a command-line argument, so only the id alphabet.
ClientId = Annotated[str, AfterValidator(_client_id)]


def _repo_path(value: str) -> str:
    try:
        return repo_path(value)
    except ValueError as exc:
        raise PydanticCustomError("repo_path", str(exc)) from None


#: A file's path relative to its repository's root, normalised (``./a//b`` -> ``a/b``).
RepoPath = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_LENGTH), AfterValidator(_repo_path)
]
LineNumber = Annotated[int, Field(ge=1, le=10_000_000)]
Name = Annotated[str, Field(min_length=1, max_length=1000)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)]
TimeoutMs = Annotated[int, Field(ge=0, le=600_000)]
Limit = Annotated[int, Field(ge=1, le=500)]


def _strict_kind(annotation: Any) -> type | None:
    """``bool`` or ``int`` when the field holds exactly that (optionally or None)."""
    if typing.get_origin(annotation) is Annotated:
        return _strict_kind(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (Union, types.UnionType):
        kinds = {a for a in typing.get_args(annotation) if a is not type(None)}
        return _strict_kind(kinds.pop()) if len(kinds) == 1 else None
    return annotation if annotation in (bool, int) else None


class ApiInput(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    #: ``{field name: bool or int}`` for the fields checked strictly, per class.
    _strict_fields: ClassVar[dict[str, type]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._strict_fields = {
            name: kind
            for name, info in cls.model_fields.items()
            if (kind := _strict_kind(info.annotation)) is not None
        }

    @field_validator("*", mode="before")
    @classmethod
    def _json_types_exactly(cls, value: Any, info: ValidationInfo) -> Any:
        """No NUL anywhere in the value, and JSON's own booleans and integers where the
        field is one (see the module docstring). One validator for both: it runs for
        every field of every call."""
        _refuse_nul(value)
        kind = cls._strict_fields.get(info.field_name or "")
        if kind is None or value is None:
            return value
        if kind is bool and not isinstance(value, bool):
            raise PydanticCustomError(
                "strict_bool",
                "must be a JSON boolean (true or false), not {value}",
                {"value": repr(value)[:40]},
            )
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise PydanticCustomError(
                "strict_int", "must be a JSON integer, not {value}", {"value": repr(value)[:40]}
            )
        return value
