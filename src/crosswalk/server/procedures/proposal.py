"""``proposal.*``: changes agents propose to pages, phases and tasks, for a person to
accept or dismiss.

An agent creates proposals as itself and may revise or withdraw its own; deciding
(``accept``, ``dismiss``, a ``status`` change, bulk updates) is the administrator's.
Accepting records the decision; carrying the proposal out is the orchestrator's job.
Agents are named by id or name wherever ``agentId`` is taken.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

from pydantic import Field

from crosswalk.domain.enums import ProposalStatus, ProposalTargetType
from crosswalk.domain.errors import ForbiddenError, InvalidInputError
from crosswalk.domain.rows import NewProposal, Proposal, ProposalUpdate
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    agent_id_of,
    deleted_output,
    page_output,
    resolve_agent,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name, Text
from crosswalk.server.serialize import camel, to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

SortOrder = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class CreateInput(ApiInput):
    agent_id: Name
    initiative_id: Id
    target_type: ProposalTargetType
    title: Name
    target_id: Id | None = None  # None: a proposal to create a new page/phase/task
    summary: Text | None = None
    content: Text | None = None
    metadata: Any = None
    sort_order: SortOrder = 0


class ListInput(OptionalInput):
    agent_id: Name | None = None
    initiative_id: Id | None = None
    status: ProposalStatus | None = None
    limit: Limit = 50
    cursor: str | None = None


class ChangesInput(ApiInput):
    """The fields of a proposal a bulk update may set (all optional)."""

    target_type: ProposalTargetType | None = None
    target_id: Id | None = None
    title: Name | None = None
    summary: Text | None = None
    content: Text | None = None
    metadata: Any = None
    status: ProposalStatus | None = None
    sort_order: SortOrder | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class UpdateProposalInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset({"target_id", "summary", "content", "metadata"})

    target_type: ProposalTargetType | None = None
    target_id: Id | None = None
    title: Name | None = None
    summary: Text | None = None
    content: Text | None = None
    metadata: Any = None
    status: ProposalStatus | None = None
    sort_order: SortOrder | None = None


class UpdateManyInput(ApiInput):
    agent_id: Name
    changes: ChangesInput
    status: ProposalStatus | None = None  # only the agent's proposals in this status


class CountInput(ApiInput):
    agent_id: Name
    status: ProposalStatus | None = None


def _require_owner(ctx: Context, proposal: Proposal, action: str) -> None:
    if not ctx.principal.is_admin and ctx.principal.agent_id != proposal.agent_id:
        raise ForbiddenError(
            f"proposal '{proposal.id}' belongs to agent '{proposal.agent_id}'; only it or "
            f"the administrator may {action} it"
        )


def _decide(ctx: Context, id: str, status: ProposalStatus) -> dict[str, Any]:
    ctx.principal.require_admin(f"decide on proposals ({status.value} one)")
    return to_api(ctx.services.documents.decide_proposal(id, status))


@router.mutation("proposal.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    agent = resolve_agent(ctx, inp.agent_id)
    ctx.principal.require_agent(agent.id)
    proposal = ctx.services.documents.create_proposal(
        NewProposal(
            agent_id=agent.id,
            initiative_id=inp.initiative_id,
            target_type=inp.target_type,
            target_id=inp.target_id,
            title=inp.title,
            summary=inp.summary,
            content=inp.content,
            metadata=inp.metadata,
            sort_order=inp.sort_order,
        )
    )
    return to_api(proposal)


@router.query("proposal.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.proposals.get(inp.id))


@router.query("proposal.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.proposals.list_page(
        agent_id=None if inp.agent_id is None else agent_id_of(ctx, inp.agent_id),
        initiative_id=inp.initiative_id,
        status=inp.status,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return page_output(page)


@router.mutation("proposal.update", input=UpdateProposalInput)
async def update(ctx: Context, inp: UpdateProposalInput) -> dict[str, Any]:
    """The owning agent may revise its proposal; only the administrator changes
    ``status`` (or use ``accept`` / ``dismiss``)."""
    proposal = ctx.repos.proposals.get(inp.id)
    _require_owner(ctx, proposal, "change")
    changes = inp.changes()
    if "status" in changes:
        ctx.principal.require_admin("change a proposal's status")
    changed = ctx.services.documents.update_proposal(inp.id, cast(ProposalUpdate, changes))
    return to_api(changed)


@router.mutation("proposal.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    proposal = ctx.repos.proposals.get(inp.id)
    _require_owner(ctx, proposal, "delete")
    proposal, removed = ctx.services.documents.delete_proposal(inp.id)
    return deleted_output(proposal, removed)


@router.mutation("proposal.accept", input=IdInput)
async def accept(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """pending -> accepted; any other status is CONFLICT naming it."""
    return _decide(ctx, inp.id, ProposalStatus.ACCEPTED)


@router.mutation("proposal.dismiss", input=IdInput)
async def dismiss(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """pending -> dismissed; any other status is CONFLICT naming it."""
    return _decide(ctx, inp.id, ProposalStatus.DISMISSED)


@router.mutation("proposal.updateManyByAgent", input=UpdateManyInput)
async def update_many_by_agent(ctx: Context, inp: UpdateManyInput) -> dict[str, Any]:
    """Applies ``changes`` to every proposal of the agent (only those in ``status`` if
    given), e.g. dismiss all its pending ones: ``{agentId, updated: n}``."""
    ctx.principal.require_admin("update proposals in bulk")
    agent = resolve_agent(ctx, inp.agent_id)
    changes = inp.changes.changes()
    for name, value in changes.items():
        if value is None and name not in UpdateProposalInput.nullable:
            raise InvalidInputError(
                f"changes.{camel(name)}: cannot be null; leave the field out to keep its value",
                field=f"changes.{camel(name)}",
            )
    updated = ctx.services.documents.update_proposals_of_agent(
        agent.id, cast(ProposalUpdate, changes), inp.status
    )
    return {"agentId": agent.id, "updated": updated}


@router.query("proposal.countByAgent", input=CountInput)
async def count_by_agent(ctx: Context, inp: CountInput) -> dict[str, Any]:
    """``{agentId, status, count}``: how many proposals the agent has (in ``status``)."""
    agent_id = agent_id_of(ctx, inp.agent_id)
    count = ctx.repos.proposals.count_by_agent_id_and_status(agent_id, inp.status)
    return {"agentId": agent_id, "status": inp.status, "count": count}
