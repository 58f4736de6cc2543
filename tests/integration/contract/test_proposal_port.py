"""The ``ProposalRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from typing import cast

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import ProposalStatus, ProposalTargetType
from crosswalk.domain.errors import InvalidInputError, NotFoundError
from crosswalk.domain.rows import NewAgent, NewInitiative, NewProposal, Proposal, ProposalUpdate

PENDING, ACCEPTED, DISMISSED = (
    ProposalStatus.PENDING,
    ProposalStatus.ACCEPTED,
    ProposalStatus.DISMISSED,
)


def test_an_agents_proposals_in_order_and_in_bulk(ports: Ports) -> None:
    agent = ports.agents.create(NewAgent(".", name="planner"))
    other = ports.agents.create(NewAgent(".", name="other"))
    initiative = ports.initiatives.create(NewInitiative("auth"))
    proposals = ports.proposals

    def propose(
        agent_id: str, title: str, *, sort_order: int = 0, status: ProposalStatus = PENDING
    ) -> Proposal:
        return proposals.create(
            NewProposal(
                agent_id,
                initiative.id,
                ProposalTargetType.TASK,
                title,
                sort_order=sort_order,
                status=status,
            )
        )

    second = propose(agent.id, "b", sort_order=2)
    first = propose(agent.id, "a", sort_order=1)
    done = propose(agent.id, "c", status=DISMISSED)
    theirs = propose(other.id, "t")

    assert proposals.find_by_agent_id_and_status(agent.id) == [done, first, second]
    assert proposals.find_by_agent_id_and_status(agent.id, PENDING) == [first, second]
    assert proposals.count_by_agent_id_and_status(agent.id, PENDING) == 2
    assert proposals.find_by_initiative_id(initiative.id) == [done, theirs, first, second]
    assert proposals.list_page(agent_id=other.id).items == [theirs]

    changed = proposals.update_many_by_agent_id(agent.id, {"status": ACCEPTED}, status=PENDING)

    assert changed == sorted([first.id, second.id])
    assert proposals.count_by_agent_id_and_status(agent.id, ACCEPTED) == 2
    assert proposals.get(theirs.id) == theirs
    assert proposals.update_many_by_agent_id(agent.id, {}) == []


def test_update_and_delete_one(ports: Ports) -> None:
    agent = ports.agents.create(NewAgent(".", name="planner"))
    initiative = ports.initiatives.create(NewInitiative("auth"))
    proposals = ports.proposals
    made = proposals.create(NewProposal(agent.id, initiative.id, ProposalTargetType.PAGE, "x"))

    edited = proposals.update(made.id, {"title": "y", "metadata": {"k": 1}})
    assert (edited.title, edited.metadata) == ("y", {"k": 1})
    assert edited.updated_at > made.updated_at
    with pytest.raises(InvalidInputError):
        proposals.update(made.id, cast(ProposalUpdate, {"nope": 1}))
    assert proposals.delete(made.id) == {}
    with pytest.raises(NotFoundError, match=f"proposal '{made.id}' not found"):
        proposals.get(made.id)
