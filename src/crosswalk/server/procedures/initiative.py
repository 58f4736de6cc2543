"""``initiative.*``."""

from __future__ import annotations

from typing import Any

from crosswalk.db.models import NewInitiative
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    name: Name
    merge_requires_approval: bool = True
    branch: Name | None = None


@router.mutation("initiative.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create initiatives")
    initiative = ctx.repos.initiatives.create(
        NewInitiative(
            name=inp.name, merge_requires_approval=inp.merge_requires_approval, branch=inp.branch
        )
    )
    return to_api(initiative)
