"""``initiative.*``: the top of the plan; deleting one takes its whole plan along."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from crosswalk.domain.enums import InitiativeStatus
from crosswalk.domain.rows import InitiativeUpdate, NewInitiative
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Limit, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    name: Name
    merge_requires_approval: bool = True
    branch: Name | None = None


class ListInput(OptionalInput):
    status: InitiativeStatus | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdateInitiativeInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset({"branch"})

    name: Name | None = None
    status: InitiativeStatus | None = None
    merge_requires_approval: bool | None = None
    branch: Name | None = None  # null clears it; nothing is derived on update


@router.mutation("initiative.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create initiatives")
    initiative = ctx.services.planning.create_initiative(
        NewInitiative(
            name=inp.name, merge_requires_approval=inp.merge_requires_approval, branch=inp.branch
        )
    )
    return to_api(initiative)


@router.query("initiative.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.initiatives.get(inp.id))


@router.query("initiative.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.initiatives.list_page(status=inp.status, limit=inp.limit, cursor=inp.cursor)
    return page_output(page)


@router.mutation("initiative.update", input=UpdateInitiativeInput)
async def update(ctx: Context, inp: UpdateInitiativeInput) -> dict[str, Any]:
    ctx.principal.require_admin("change initiatives")
    changes = cast(InitiativeUpdate, inp.changes())
    return to_api(ctx.services.planning.update_initiative(inp.id, changes))


@router.mutation("initiative.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the initiative with its phases, tasks, pages, proposals and project
    links; ``removed`` counts each, and the agents and conversations detached."""
    ctx.principal.require_admin("delete initiatives")
    initiative, removed = ctx.services.planning.delete_initiative(inp.id)
    return deleted_output(initiative, removed)
