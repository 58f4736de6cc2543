"""The proposal repository against a real SQLite file."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, Table, insert

from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.proposal import SqlAlchemyProposalRepository
from crosswalk.db.schema import initiatives
from crosswalk.domain.enums import ProposalStatus, ProposalTargetType
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import Agent, NewAgent, NewProposal, Proposal
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

PENDING, ACCEPTED, DISMISSED = ProposalStatus


def insert_row(engine: Engine, table: Table, **values: Any) -> str:
    """A parent row written with Core, independent of the adapters under test."""
    now = utcnow()
    values.setdefault("id", new_id())
    for stamp in ("created_at", "updated_at"):
        if stamp in table.c:
            values.setdefault(stamp, now)
    with engine.begin() as conn:
        conn.execute(insert(table).values(values))
    return str(values["id"])


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyProposalRepository:
    return SqlAlchemyProposalRepository(engine)


@pytest.fixture
def initiative_id(engine: Engine) -> str:
    return insert_row(engine, initiatives, name="auth")


@pytest.fixture
def agent(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/wt", name="planner"))


@pytest.fixture
def other_agent(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/wt2", name="reviewer"))


def propose(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    initiative_id: str,
    title: str,
    **fields: Any,
) -> Proposal:
    return repo.create(
        NewProposal(agent.id, initiative_id, ProposalTargetType.TASK, title, **fields)
    )


def test_create_stores_the_proposal_and_its_metadata_as_json(
    repo: SqlAlchemyProposalRepository, agent: Agent, initiative_id: str
) -> None:
    metadata = {"phaseId": "p1", "dependencies": ["t1", "t2"], "estimate": 3, "draft": False}

    proposal = propose(
        repo,
        agent,
        initiative_id,
        "Add login",
        target_id="t0",
        summary="why",
        content="# Plan\n- a",
        metadata=metadata,
    )

    assert len(proposal.id) == 21
    assert (proposal.agent_id, proposal.initiative_id) == (agent.id, initiative_id)
    assert proposal.target_type is ProposalTargetType.TASK
    assert (proposal.target_id, proposal.title, proposal.summary, proposal.content) == (
        "t0",
        "Add login",
        "why",
        "# Plan\n- a",
    )
    assert proposal.metadata == metadata
    assert (proposal.status, proposal.sort_order) == (PENDING, 0)
    assert proposal.created_at == proposal.updated_at
    assert repo.get(proposal.id) == proposal


def test_create_names_a_missing_agent_or_initiative(
    repo: SqlAlchemyProposalRepository, agent: Agent, initiative_id: str
) -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        repo.create(NewProposal("ghost", initiative_id, ProposalTargetType.PAGE, "x"))
    with pytest.raises(NotFoundError, match="initiative 'ghost' not found"):
        repo.create(NewProposal(agent.id, "ghost", ProposalTargetType.PAGE, "x"))
    assert repo.find_all() == []


def test_find_by_agent_id_and_status_orders_by_sort_order_then_creation(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    other_agent: Agent,
    initiative_id: str,
) -> None:
    late = propose(repo, agent, initiative_id, "late", sort_order=5)
    first = propose(repo, agent, initiative_id, "first", sort_order=1)
    time.sleep(0.003)  # same sort order: creation time decides
    second = propose(repo, agent, initiative_id, "second", sort_order=1)
    done = propose(repo, agent, initiative_id, "done", sort_order=0, status=ACCEPTED)
    propose(repo, other_agent, initiative_id, "not mine")

    assert repo.find_by_agent_id_and_status(agent.id, PENDING) == [first, second, late]
    assert repo.find_by_agent_id_and_status(agent.id, ACCEPTED) == [done]
    assert repo.find_by_agent_id_and_status(agent.id) == [done, first, second, late]
    assert repo.find_by_agent_id_and_status("nobody") == []


def test_count_by_agent_id_and_status(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    other_agent: Agent,
    initiative_id: str,
) -> None:
    for status in (PENDING, PENDING, DISMISSED):
        propose(repo, agent, initiative_id, "p", status=status)
    propose(repo, other_agent, initiative_id, "p")

    assert repo.count_by_agent_id_and_status(agent.id) == 3
    assert repo.count_by_agent_id_and_status(agent.id, PENDING) == 2
    assert repo.count_by_agent_id_and_status(agent.id, ACCEPTED) == 0
    assert repo.count_by_agent_id_and_status("nobody") == 0


def test_update_many_with_a_status_filter_changes_only_those(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    other_agent: Agent,
    initiative_id: str,
) -> None:
    pending = [propose(repo, agent, initiative_id, f"p{i}") for i in range(3)]
    dismissed = propose(repo, agent, initiative_id, "d", status=DISMISSED)
    theirs = propose(repo, other_agent, initiative_id, "t")
    time.sleep(0.003)

    changed = repo.update_many_by_agent_id(agent.id, {"status": ACCEPTED}, status=PENDING)

    assert changed == sorted(p.id for p in pending)
    for before in pending:
        after = repo.get(before.id)
        assert after.status is ACCEPTED
        assert after.updated_at > before.updated_at
    assert repo.get(dismissed.id) == dismissed
    assert repo.get(theirs.id) == theirs


def test_update_many_without_a_status_changes_all_of_the_agents_proposals(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    other_agent: Agent,
    initiative_id: str,
) -> None:
    for status in ProposalStatus:
        propose(repo, agent, initiative_id, status.value, status=status)
    theirs = propose(repo, other_agent, initiative_id, "t")

    changed = repo.update_many_by_agent_id(agent.id, {"status": DISMISSED, "sort_order": 9})

    assert len(changed) == 3
    assert {(p.status, p.sort_order) for p in repo.find_by_agent_id_and_status(agent.id)} == {
        (DISMISSED, 9)
    }
    assert repo.get(theirs.id) == theirs
    assert repo.update_many_by_agent_id("nobody", {"status": ACCEPTED}) == []
    assert repo.update_many_by_agent_id(agent.id, {}) == []


def test_find_by_initiative_id(
    repo: SqlAlchemyProposalRepository, agent: Agent, initiative_id: str, engine: Engine
) -> None:
    other = insert_row(engine, initiatives, name="other")
    mine = [propose(repo, agent, initiative_id, t, sort_order=n) for n, t in ((2, "b"), (1, "a"))]
    propose(repo, agent, other, "elsewhere")

    assert repo.find_by_initiative_id(initiative_id) == [mine[1], mine[0]]


def test_update_moves_updated_at_and_round_trips_metadata(
    repo: SqlAlchemyProposalRepository, agent: Agent, initiative_id: str
) -> None:
    proposal = propose(repo, agent, initiative_id, "x")
    time.sleep(0.003)

    assert repo.update(proposal.id, {}) == proposal
    updated = repo.update(proposal.id, {"metadata": [1, {"k": None}], "title": "y"})

    assert updated.metadata == [1, {"k": None}]
    assert updated.title == "y"
    assert updated.updated_at > proposal.updated_at
    assert repo.get(proposal.id) == updated


def test_list_page_filters_and_pages(
    repo: SqlAlchemyProposalRepository,
    agent: Agent,
    other_agent: Agent,
    initiative_id: str,
) -> None:
    mine = [propose(repo, agent, initiative_id, f"m{i}") for i in range(5)]
    propose(repo, other_agent, initiative_id, "t")
    propose(repo, agent, initiative_id, "d", status=DISMISSED)

    first = repo.list_page(agent_id=agent.id, status=PENDING, limit=3)
    rest = repo.list_page(agent_id=agent.id, status=PENDING, limit=3, cursor=first.next_cursor)

    assert first.items + rest.items == sorted(mine, key=lambda p: (p.created_at, p.id))
    assert rest.next_cursor is None
    assert len(repo.list_page(initiative_id=initiative_id).items) == 7


def test_delete_returns_an_empty_removal_and_unknown_ids_are_not_found(
    repo: SqlAlchemyProposalRepository, agent: Agent, initiative_id: str
) -> None:
    proposal = propose(repo, agent, initiative_id, "x")

    assert repo.delete(proposal.id) == {}
    assert repo.find_by_id(proposal.id) is None
    for call in (
        lambda: repo.get(proposal.id),
        lambda: repo.update(proposal.id, {"title": "y"}),
        lambda: repo.update(proposal.id, {}),
        lambda: repo.delete(proposal.id),
    ):
        with pytest.raises(NotFoundError, match=f"proposal '{proposal.id}' not found"):
            call()
