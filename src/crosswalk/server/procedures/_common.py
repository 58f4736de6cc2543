"""Shapes every management router shares: partial updates, list pages, delete results.

Kept here so that ``initiative.*``, ``task.*``, ``agent.*``... answer alike: a list is
``{items, nextCursor}``, a delete is ``{id, deleted, removed}``, and an update changes
exactly the fields the caller sent.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from crosswalk.domain.rows import Agent, Paged, Removal
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id, Name
from crosswalk.server.serialize import to_api, to_api_list


class OptionalInput(ApiInput):
    """An input whose fields are all optional (list filters): sending none at all,
    as ``client.task.list.query()`` does, means ``{}``."""

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data: Any) -> Any:
        return {} if data is None else data


class IdInput(ApiInput):
    """``{id}``: the input of every ``get`` and ``delete``."""

    id: Id


class RefInput(ApiInput):
    """``{ref}``: an initiative, phase or task as a person names it: its id, its name,
    or the start of its id (``crosswalk.domain.refs``)."""

    ref: Name


class UpdateInput(ApiInput):
    """Base of ``*.update`` inputs: ``{id, ...fields}`` where a field left out is kept.

    Fields are declared ``X | None = None`` so that "left out" is visible in
    ``model_fields_set``; an explicit ``null`` is refused (naming the field) unless
    the column may be cleared, listed in ``nullable`` by its Python name.
    """

    nullable: ClassVar[frozenset[str]] = frozenset()

    id: Id

    @field_validator("*", mode="after")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError(
                "not_nullable", "cannot be null; leave the field out to keep its value"
            )
        return value

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent (``id`` aside), by column name, for ``*Update``."""
        return {name: getattr(self, name) for name in self.model_fields_set if name != "id"}


def page_output(page: Paged[Any]) -> dict[str, Any]:
    """A list procedure's output: ``{items, nextCursor}`` (``null`` on the last page)."""
    return {"items": to_api_list(page.items), "nextCursor": page.next_cursor}


def deleted_output(row: Any, removed: Removal) -> dict[str, Any]:
    """A delete's output: ``{id, deleted, removed}``.

    ``deleted`` is the row as it was, so a client can say what went ("deleted phase
    'Build'") without a read before the delete; ``removed`` is the repository's count
    of what went with it (cascaded rows by table, ``*Detached`` for nulled references).
    """
    return {"id": row.id, "deleted": to_api(row), "removed": dict(removed)}


def resolve_agent(ctx: Context, id_or_name: str) -> Agent:
    """The agent with this id, else the one with this name (``cw`` users type names);
    NOT_FOUND naming what was given."""
    return ctx.services.agents.resolve(id_or_name)


def agent_id_of(ctx: Context, id_or_name: str) -> str:
    """The id of the agent with this id or name, else ``id_or_name`` unchanged: for
    filters and for logs, which outlive their agent, an unknown agent is no error."""
    agent = ctx.services.agents.find(id_or_name)
    return id_or_name if agent is None else agent.id
