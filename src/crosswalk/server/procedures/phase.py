"""``phase.*``."""

from __future__ import annotations

from typing import Any

from crosswalk.db.models import NewPhase
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    initiative_id: Id
    name: Name
    content: Any = None


@router.mutation("phase.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create phases")
    phase = ctx.repos.phases.create(
        NewPhase(initiative_id=inp.initiative_id, name=inp.name, content=inp.content)
    )
    return to_api(phase)
