"""``file.*``: who changed a file (the ownership index, ``crosswalk.services.ownership``)."""

from __future__ import annotations

from typing import Any

from crosswalk.domain.rows import FileOwner
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id, RepoPath
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router
from crosswalk.services.targets import find_initiative_of, initiative_of

router: Router[Context] = Router()


class OwnersInput(ApiInput):
    path: RepoPath  # relative to the repository root
    initiative_id: Id | None = None


def _owner(owner: FileOwner) -> dict[str, Any]:
    agent, change = owner.agent, owner.change
    return {
        "agentId": agent.id,
        "agentName": agent.name,
        "status": agent.status.value,
        "taskId": change.task_id,
        "taskName": owner.task_name,
        "initiativeId": change.initiative_id,
        "merged": change.merged,
        "lines": [list(pair) for pair in change.lines],
        "changedAt": to_api(change)["changedAt"],
    }


@router.query("file.owners", input=OwnersInput)
async def owners(ctx: Context, inp: OwnersInput) -> dict[str, Any]:
    """The agents whose work changed ``path`` (relative to the repository root), unmerged
    and merged, the most recent change first: ``{path, owners: [{agentId, agentName,
    status, taskId, taskName, initiativeId, merged, lines, changedAt}]}`` (``lines``:
    the ranges the change covers, ``[]`` the whole file). An agent sees its own
    initiative; the administrator one initiative, or all without ``initiativeId``."""
    initiative_id = inp.initiative_id
    caller = ctx.principal.agent
    if ctx.principal.agent_id is not None:
        if caller is None:
            caller = ctx.repos.agents.get(ctx.principal.agent_id)
        if initiative_id not in (None, find_initiative_of(caller, ctx.repos.agents)):
            ctx.principal.require_admin(f"see who changed files in initiative '{initiative_id}'")
        initiative_id = initiative_of(caller, ctx.repos.agents)
    found = ctx.repos.ownership.owners(inp.path, initiative_id=initiative_id)
    return {"path": inp.path, "owners": [_owner(owner) for owner in found]}
