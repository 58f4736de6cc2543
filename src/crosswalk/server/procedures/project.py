"""``project.*``: git repositories, and which initiatives work in them."""

from __future__ import annotations

from typing import Annotated, Any, cast

from pydantic import Field

from crosswalk.domain.rows import NewProject, ProjectUpdate
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

Url = Annotated[str, Field(min_length=1, max_length=2000)]
Branch = Annotated[str, Field(min_length=1, max_length=255)]


class CreateInput(ApiInput):
    name: Name
    url: Url
    default_branch: Branch = "main"


class ListInput(OptionalInput):
    limit: Limit = 50
    cursor: str | None = None


class UpdateProjectInput(UpdateInput):
    name: Name | None = None
    url: Url | None = None
    default_branch: Branch | None = None


class InitiativeInput(ApiInput):
    initiative_id: Id


class SetForInitiativeInput(ApiInput):
    initiative_id: Id
    project_ids: Annotated[list[Id], Field(max_length=500)]


class LinkInput(ApiInput):
    initiative_id: Id
    project_id: Id


@router.mutation("project.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create projects")
    project = ctx.services.documents.create_project(
        NewProject(name=inp.name, url=inp.url, default_branch=inp.default_branch)
    )
    return to_api(project)


@router.query("project.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.projects.get(inp.id))


@router.query("project.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    return page_output(ctx.repos.projects.list_page(limit=inp.limit, cursor=inp.cursor))


@router.mutation("project.update", input=UpdateProjectInput)
async def update(ctx: Context, inp: UpdateProjectInput) -> dict[str, Any]:
    ctx.principal.require_admin("change projects")
    changes = cast(ProjectUpdate, inp.changes())
    return to_api(ctx.services.documents.update_project(inp.id, changes))


@router.mutation("project.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the project; ``removed.initiativeProjects`` counts the links that went
    (the initiatives themselves stay)."""
    ctx.principal.require_admin("delete projects")
    project, removed = ctx.services.documents.delete_project(inp.id)
    return deleted_output(project, removed)


@router.mutation("project.setForInitiative", input=SetForInitiativeInput)
async def set_for_initiative(ctx: Context, inp: SetForInitiativeInput) -> dict[str, Any]:
    """Make ``projectIds`` exactly the initiative's projects; only the difference is
    written. Returns ``{added, removed, projectIds}``."""
    ctx.principal.require_admin("change an initiative's projects")
    change = ctx.services.documents.set_initiative_projects(inp.initiative_id, inp.project_ids)
    return {
        "added": list(change.added),
        "removed": list(change.removed),
        "projectIds": list(change.project_ids),
    }


@router.mutation("project.addToInitiative", input=LinkInput)
async def add_to_initiative(ctx: Context, inp: LinkInput) -> list[dict[str, Any]]:
    """Link one project (linking it again changes nothing); returns the initiative's
    projects afterwards, as ``project.forInitiative`` does."""
    ctx.principal.require_admin("change an initiative's projects")
    return to_api_list(ctx.services.documents.link_project(inp.initiative_id, inp.project_id))


@router.mutation("project.removeFromInitiative", input=LinkInput)
async def remove_from_initiative(ctx: Context, inp: LinkInput) -> list[dict[str, Any]]:
    """Unlink one project (NOT_FOUND when it was not linked); returns the initiative's
    projects afterwards."""
    ctx.principal.require_admin("change an initiative's projects")
    unlinked = ctx.services.documents.unlink_project(inp.initiative_id, inp.project_id)
    return to_api_list(unlinked)


@router.query("project.forInitiative", input=InitiativeInput)
async def for_initiative(ctx: Context, inp: InitiativeInput) -> list[dict[str, Any]]:
    """The initiative's projects by name (NOT_FOUND for an unknown initiative)."""
    ctx.repos.initiatives.get(inp.initiative_id)
    return to_api_list(ctx.repos.projects.find_projects_by_initiative_id(inp.initiative_id))
