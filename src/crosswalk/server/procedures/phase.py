"""``phase.*``: phases of an initiative and the order they wait for each other in."""

from __future__ import annotations

from typing import Any, ClassVar, cast

from crosswalk.domain.enums import PhaseStatus
from crosswalk.domain.rows import NewPhase, PhaseUpdate
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    RefInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    initiative_id: Id
    name: Name
    content: Any = None


class ListInput(OptionalInput):
    initiative_id: Id | None = None
    status: PhaseStatus | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdatePhaseInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset({"content"})

    name: Name | None = None
    content: Any = None
    status: PhaseStatus | None = None


class DependencyInput(ApiInput):
    phase_id: Id
    depends_on_phase_id: Id


@router.mutation("phase.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create phases")
    phase = ctx.services.planning.create_phase(
        NewPhase(initiative_id=inp.initiative_id, name=inp.name, content=inp.content)
    )
    return to_api(phase)


@router.query("phase.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.phases.get(inp.id))


@router.query("phase.resolve", input=RefInput)
async def resolve(ctx: Context, inp: RefInput) -> dict[str, Any]:
    """The phase ``ref`` names: its id, its name, or the start of its id. Several
    phases with that name or id start is BAD_REQUEST listing them (name and id);
    none is NOT_FOUND. ``cw`` resolves every phase it is given this way."""
    return to_api(ctx.services.planning.resolve_phase(inp.ref))


@router.query("phase.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.phases.list_page(
        initiative_id=inp.initiative_id, status=inp.status, limit=inp.limit, cursor=inp.cursor
    )
    return page_output(page)


@router.mutation("phase.update", input=UpdatePhaseInput)
async def update(ctx: Context, inp: UpdatePhaseInput) -> dict[str, Any]:
    ctx.principal.require_admin("change phases")
    return to_api(ctx.services.planning.update_phase(inp.id, cast(PhaseUpdate, inp.changes())))


@router.mutation("phase.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the phase with its tasks; ``removed`` counts them, the dependencies
    that went with them, and the agents and conversations detached."""
    ctx.principal.require_admin("delete phases")
    phase, removed = ctx.services.planning.delete_phase(inp.id)
    return deleted_output(phase, removed)


@router.mutation("phase.addDependency", input=DependencyInput)
async def add_dependency(ctx: Context, inp: DependencyInput) -> dict[str, Any]:
    """``phaseId`` waits for ``dependsOnPhaseId``; a cycle is BAD_REQUEST showing it."""
    ctx.principal.require_admin("change phase dependencies")
    planning = ctx.services.planning
    return to_api(planning.add_phase_dependency(inp.phase_id, inp.depends_on_phase_id))


@router.mutation("phase.removeDependency", input=DependencyInput)
async def remove_dependency(ctx: Context, inp: DependencyInput) -> dict[str, Any]:
    ctx.principal.require_admin("change phase dependencies")
    ctx.services.planning.remove_phase_dependency(inp.phase_id, inp.depends_on_phase_id)
    return {"phaseId": inp.phase_id, "dependsOnPhaseId": inp.depends_on_phase_id}


@router.query("phase.dependencies", input=IdInput)
async def dependencies(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The phases this one waits for (NOT_FOUND for an unknown phase, not ``[]``)."""
    ctx.repos.phases.get(inp.id)
    return to_api_list(ctx.repos.phases.get_dependencies(inp.id))


@router.query("phase.dependents", input=IdInput)
async def dependents(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The phases waiting for this one."""
    ctx.repos.phases.get(inp.id)
    return to_api_list(ctx.repos.phases.get_dependents(inp.id))
