"""``agent.*``: registering an agent hands out its token, once."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from crosswalk.db.models import NewAgent
from crosswalk.db.schema import AgentMode, AgentStatus
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router
from crosswalk.services.auth import hash_token, new_token

router: Router[Context] = Router()


class CreateInput(ApiInput):
    name: (
        Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.-]*$")] | None
    ) = None
    task_id: Id | None = None
    initiative_id: Id | None = None
    worktree_id: Name = "."
    provider: Name = "claude"
    mode: AgentMode = AgentMode.EXECUTE
    status: AgentStatus = AgentStatus.IDLE
    session_id: Name | None = None


@router.mutation("agent.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("register agents")
    initiative_id = inp.initiative_id
    if initiative_id is None and inp.task_id is not None:
        initiative_id = ctx.repos.tasks.get(inp.task_id).initiative_id
    token = new_token()
    agent = ctx.repos.agents.create(
        NewAgent(
            name=inp.name,
            task_id=inp.task_id,
            initiative_id=initiative_id,
            worktree_id=inp.worktree_id,
            provider=inp.provider,
            mode=inp.mode,
            status=inp.status,
            session_id=inp.session_id,
            token_hash=hash_token(token),
        )
    )
    return {**to_api(agent), "token": token}
