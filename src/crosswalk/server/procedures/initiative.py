"""``initiative.*``: the top of the plan; deleting one takes its whole plan along.

``initiative.run`` / ``initiative.pause`` turn the server's dispatch of the
initiative's ready tasks on and off; ``initiative.status`` shows where it stands;
``initiative.push`` sends its branch to the projects' own repositories.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

from pydantic import Field

from crosswalk.dispatch.status import gather, report
from crosswalk.domain.enums import InitiativeStatus
from crosswalk.domain.rows import InitiativeUpdate, NewInitiative
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
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    name: Name
    merge_requires_approval: bool = True
    branch: Name | None = None
    auto_push: bool = False


class PushInput(ApiInput):
    id: Id
    project: Name | None = None  # a project's id or name; None: every linked project


class RunInput(ApiInput):
    id: Id
    max_agents: Annotated[int, Field(ge=1, le=64)] = 2
    provider: Name | None = None


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
    auto_push: bool | None = None


@router.mutation("initiative.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create initiatives")
    initiative = ctx.services.planning.create_initiative(
        NewInitiative(
            name=inp.name,
            merge_requires_approval=inp.merge_requires_approval,
            branch=inp.branch,
            auto_push=inp.auto_push,
        )
    )
    return to_api(initiative)


@router.query("initiative.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.initiatives.get(inp.id))


@router.query("initiative.resolve", input=RefInput)
async def resolve(ctx: Context, inp: RefInput) -> dict[str, Any]:
    """The initiative ``ref`` names: its id, its name, or the start of its id. Several
    initiatives with that name or id start is BAD_REQUEST listing them (name and id);
    none is NOT_FOUND. ``cw`` resolves every initiative it is given this way."""
    return to_api(ctx.services.planning.resolve_initiative(inp.ref))


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


@router.mutation("initiative.run", input=RunInput)
async def run(ctx: Context, inp: RunInput) -> dict[str, Any]:
    """Turns dispatch on: the server starts an agent for every ready task (dependencies
    and phase dependencies completed), highest priority first, never more than
    ``maxAgents`` of the initiative at once, until paused or until every task is
    completed. Checkpoint tasks go to the person instead. Returns the initiative;
    PRECONDITION_FAILED when no project is linked to it (there is nowhere to work)."""
    ctx.principal.require_admin("run initiatives")
    return to_api(ctx.runtime.dispatcher.run(inp.id, inp.max_agents, inp.provider))


@router.mutation("initiative.pause", input=IdInput)
async def pause(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Turns dispatch off; agents already running go on. Returns the initiative."""
    ctx.principal.require_admin("pause initiatives")
    return to_api(ctx.runtime.dispatcher.pause(inp.id))


@router.mutation("initiative.push", input=PushInput, waits=True)
async def push(ctx: Context, inp: PushInput) -> dict[str, Any]:
    """Pushes the initiative branch from the server's clone of each linked project (or
    of ``project``, an id or name) to that project's URL, under the same name, never
    forced: ``{pushed: [{projectId, project, url, branch, status, commit, message}]}``,
    ``status`` one of ``pushed``, ``up_to_date``, ``nothing_yet`` (no agent has started
    there). A remote branch that diverged is CONFLICT naming it; another failure is
    PRECONDITION_FAILED; either way the other projects are pushed and each push is
    recorded (``initiative.status``'s ``pushes``)."""
    ctx.principal.require_admin("push initiatives")
    results = await ctx.runtime.pushes.push(inp.id, inp.project)
    return {
        "pushed": [
            {
                "projectId": r.target.project_id,
                "project": r.target.project,
                "url": r.target.url,
                "branch": r.target.branch,
                "status": r.status,
                "commit": r.commit,
                "message": r.message,
            }
            for r in results
        ]
    }


@router.query("initiative.status", input=IdInput)
async def status(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """The initiative's tasks by status, each with what it waits for and what its
    agents' runs cost (``usage``); its running agents; its open questions (between
    agents, and to the person); ``usage``, what the whole initiative cost; ``pushes``,
    the last push of its branch to each project; ``overlaps``, the files the unmerged
    work of several agents changed (``{file, agents, agentNames}``); and
    ``mergePreview``, whether each pair of agents' unmerged work would merge cleanly
    (``{agents, agentNames, conflicts, files, checkedAt}``), checked before any merge."""
    initiative = ctx.repos.initiatives.get(inp.id)
    situation = gather(
        initiative,
        ctx.runtime.dispatcher.plan(initiative.id),
        agents=ctx.repos.agents,
        conversations=ctx.repos.conversations,
        messages=ctx.repos.messages,
        runs=ctx.repos.agent_runs,
        projects=ctx.repos.projects,
        ownership=ctx.repos.ownership,
    )
    return report(situation)
