"""``log.*``: agents' raw output (JSONL chunks), kept after the agent is gone.

An agent appends to its own log; reading a log is for that agent and the
administrator (output may hold anything the agent saw); deleting is the
administrator's. ``agentId`` may be an agent's id or name; a log whose agent was
deleted is still reachable by the id it was written under.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from crosswalk.domain.enums import LIVE_AGENT_STATUSES
from crosswalk.domain.events import entity_key, logs_key
from crosswalk.domain.rows import LogChunk
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import agent_id_of, resolve_agent
from crosswalk.server.procedures._inputs import ApiInput, Name
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router, Tracked
from crosswalk.services.change_stream import Subscription

router: Router[Context] = Router()

SessionNumber = Annotated[int, Field(ge=1, le=1_000_000)]
# One chunk may be a large burst of JSONL; the request body limit (1 MiB) bounds it too.
Chunk = Annotated[str, Field(min_length=1, max_length=1_000_000)]


class AppendInput(ApiInput):
    agent_id: Name
    content: Chunk
    session_number: SessionNumber | None = None


class ForAgentInput(ApiInput):
    agent_id: Name
    session_number: SessionNumber | None = None


class AgentInput(ApiInput):
    agent_id: Name


class FollowInput(ApiInput):
    agent_id: Name
    session_number: SessionNumber | None = None
    last_event_id: str | None = None


@router.mutation("log.append", input=AppendInput)
async def append(ctx: Context, inp: AppendInput) -> dict[str, Any]:
    """Appends a chunk under the agent's current name. Without ``sessionNumber`` the
    chunk joins the agent's latest session (1 for its first chunk)."""
    agent = resolve_agent(ctx, inp.agent_id)
    ctx.principal.require_agent(agent.id)
    return to_api(ctx.services.logs.append(agent, inp.content, inp.session_number))


@router.query("log.forAgent", input=ForAgentInput)
async def for_agent(ctx: Context, inp: ForAgentInput) -> list[dict[str, Any]]:
    """The agent's chunks in the order written (one session's, if given)."""
    agent_id = agent_id_of(ctx, inp.agent_id)
    ctx.principal.require_agent(agent_id)
    chunks = ctx.repos.log_chunks.find_by_agent_id(agent_id, session_number=inp.session_number)
    return to_api_list(chunks)


@router.query("log.sessionCount", input=AgentInput)
async def session_count(ctx: Context, inp: AgentInput) -> dict[str, Any]:
    """``{agentId, sessionCount}``: the agent's highest session number, 0 with no log."""
    agent_id = agent_id_of(ctx, inp.agent_id)
    ctx.principal.require_agent(agent_id)
    return {"agentId": agent_id, "sessionCount": ctx.repos.log_chunks.get_session_count(agent_id)}


@router.mutation("log.deleteForAgent", input=AgentInput)
async def delete_for_agent(ctx: Context, inp: AgentInput) -> dict[str, Any]:
    """Deletes the agent's whole log: ``{agentId, removed: {agentLogChunks: n}}``."""
    ctx.principal.require_admin("delete agent logs")
    agent_id = agent_id_of(ctx, inp.agent_id)
    deleted = ctx.services.logs.delete_for_agent(agent_id)
    return {"agentId": agent_id, "removed": {"agentLogChunks": deleted}}


@router.subscription("log.follow", input=FollowInput)
async def follow(ctx: Context, inp: FollowInput) -> AsyncIterator[Tracked]:
    """Subscription: the agent's chunks written so far, then each new one as the agent
    writes it, tracked by chunk id (a reconnect resumes after the last one seen). Ends
    when the agent no longer runs and every chunk it wrote has been sent."""
    offload, changes = ctx.services.offload, ctx.services.changes
    agent_id = await offload(agent_id_of, ctx, inp.agent_id)
    ctx.principal.require_agent(agent_id)
    after = None
    if inp.last_event_id is not None:
        after = await offload(_written_at, ctx, agent_id, inp.last_event_id)

    async def read(_: Subscription) -> tuple[bool, list[LogChunk]]:
        return await offload(_since, ctx, agent_id, inp.session_number, after)

    keys = (logs_key(agent_id), entity_key("agent", agent_id))
    async with aclosing(changes.watch(keys, read, reread_s=60.0)) as reads:
        async for running, chunks in reads:
            for chunk in chunks:
                after = chunk.created_at
                yield Tracked(chunk.id, to_api(chunk))
            if not running:
                return


def _written_at(ctx: Context, agent_id: str, chunk_id: str) -> datetime | None:
    """When the agent's chunk ``chunk_id`` was written (None: not one of its chunks)."""
    chunks = ctx.repos.log_chunks.find_by_agent_id(agent_id)
    return next((c.created_at for c in chunks if c.id == chunk_id), None)


def _since(
    ctx: Context, agent_id: str, session: int | None, after: datetime | None
) -> tuple[bool, list[LogChunk]]:
    """Whether the agent still runs, and its chunks written after ``after``. The status
    is read first: every chunk of a run is stored before its end is."""
    agent = ctx.repos.agents.find_by_id(agent_id)
    running = agent is not None and agent.status in LIVE_AGENT_STATUSES
    return running, ctx.repos.log_chunks.find_by_agent_id(
        agent_id, session_number=session, after=after
    )
