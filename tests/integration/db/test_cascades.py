"""What deleting a row does to the rows that point at it, and to nothing else.

Each test snapshots every table, deletes one row, and compares the whole
database with the snapshot changed in exactly the ways the schema promises:
a cascade or a SET NULL that went missing, or one that reached too far, fails.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, insert, select

from crosswalk.db.repositories.sqlalchemy.account import SqlAlchemyAccountRepository
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.log_chunk import SqlAlchemyLogChunkRepository
from crosswalk.db.repositories.sqlalchemy.message import SqlAlchemyMessageRepository
from crosswalk.db.repositories.sqlalchemy.proposal import SqlAlchemyProposalRepository
from crosswalk.db.schema import (
    accounts,
    agent_log_chunks,
    agents,
    conversations,
    initiatives,
    messages,
    phases,
    proposals,
    tasks,
)
from crosswalk.domain.enums import ParticipantType, ProposalTargetType
from crosswalk.domain.rows import (
    NewAccount,
    NewAgent,
    NewLogChunk,
    NewMessage,
    NewProposal,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

TABLES = (
    initiatives,
    phases,
    tasks,
    accounts,
    agents,
    proposals,
    messages,
    agent_log_chunks,
    conversations,
)
AGENT, USER = ParticipantType.AGENT, ParticipantType.USER
Snapshot = dict[str, dict[str, dict[str, Any]]]


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


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every table this test touches, by table name and id."""
    with engine.connect() as conn:
        return {
            table.name: {row.id: dict(row._mapping) for row in conn.execute(select(table))}
            for table in TABLES
        }


def delete_with_core(engine: Engine, table: Table, id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.id == id))


@dataclass
class World:
    """Two initiatives' worth of rows, with agent ``doomed`` in the middle of it all."""

    initiative: str
    other_initiative: str
    phase: str
    task: str
    other_task: str
    account: str
    doomed: str
    peer: str
    bystander: str


@pytest.fixture
def world(engine: Engine) -> World:
    initiative = insert_row(engine, initiatives, name="auth")
    other_initiative = insert_row(engine, initiatives, name="billing")
    phase = insert_row(engine, phases, name="build", initiative_id=initiative)
    task = insert_row(engine, tasks, name="login", phase_id=phase, initiative_id=initiative)
    other_phase = insert_row(engine, phases, name="plan", initiative_id=other_initiative)
    other_task = insert_row(
        engine, tasks, name="invoices", phase_id=other_phase, initiative_id=other_initiative
    )
    account = SqlAlchemyAccountRepository(engine).create(NewAccount("me@example.com")).id

    agent_repo = SqlAlchemyAgentRepository(engine)
    doomed = agent_repo.create(
        NewAgent("/1", task_id=task, initiative_id=initiative, account_id=account)
    ).id
    peer = agent_repo.create(
        NewAgent("/2", task_id=task, initiative_id=initiative, account_id=account)
    ).id
    bystander = agent_repo.create(
        NewAgent("/3", task_id=other_task, initiative_id=other_initiative)
    ).id

    # Written with Core: asking both ways round would be refused as a wait cycle,
    # and what matters here is only what a delete takes along.
    for asker, answerer, task_id in (
        (doomed, peer, task),
        (peer, doomed, None),
        (peer, bystander, task),
        (bystander, peer, other_task),
    ):
        insert_row(
            engine,
            conversations,
            from_agent_id=asker,
            to_agent_id=answerer,
            question="?",
            task_id=task_id,
            phase_id=phase,
            initiative_id=initiative,
        )

    ideas = SqlAlchemyProposalRepository(engine)
    for agent_id, initiative_id in ((doomed, initiative), (doomed, other_initiative)):
        ideas.create(NewProposal(agent_id, initiative_id, ProposalTargetType.PAGE, "p"))
    ideas.create(NewProposal(peer, initiative, ProposalTargetType.TASK, "t"))
    ideas.create(NewProposal(bystander, other_initiative, ProposalTargetType.TASK, "t"))

    notes = SqlAlchemyMessageRepository(engine)
    root = notes.create(NewMessage(AGENT, USER, "from doomed", sender_id=doomed))
    notes.create(
        NewMessage(USER, AGENT, "to doomed", recipient_id=doomed, parent_message_id=root.id)
    )
    notes.create(NewMessage(AGENT, AGENT, "doomed to peer", sender_id=doomed, recipient_id=peer))
    notes.create(NewMessage(AGENT, USER, "from peer", sender_id=peer))

    logs = SqlAlchemyLogChunkRepository(engine)
    for agent_id in (doomed, doomed, peer):
        logs.insert_chunk(NewLogChunk(agent_id, "name", "{}"))

    return World(
        initiative, other_initiative, phase, task, other_task, account, doomed, peer, bystander
    )


def test_deleting_an_agent_cascades_to_its_conversations_and_proposals_only(
    engine: Engine, world: World
) -> None:
    before = snapshot(engine)
    expected = copy.deepcopy(before)
    del expected["agents"][world.doomed]
    for id, row in before["conversations"].items():
        if world.doomed in (row["from_agent_id"], row["to_agent_id"]):
            del expected["conversations"][id]
    for id, row in before["proposals"].items():
        if row["agent_id"] == world.doomed:
            del expected["proposals"][id]
    for id, row in before["messages"].items():
        for column in ("sender_id", "recipient_id"):
            if row[column] == world.doomed:
                expected["messages"][id][column] = None

    removal = SqlAlchemyAgentRepository(engine).delete(world.doomed)

    after = snapshot(engine)
    assert after == expected
    assert removal == {
        "conversations": 2,
        "proposals": 2,
        "messagesDetached": 3,
        "logChunksKept": 2,
    }
    # Spelled out, some of what the comparison above implies:
    assert len(after["conversations"]) == 2
    detached = [row for row in after["messages"].values() if row["content"] == "from doomed"]
    assert [(row["sender_type"], row["sender_id"]) for row in detached] == [("agent", None)]
    kept = [row["agent_id"] for row in after["agent_log_chunks"].values()]
    assert kept.count(world.doomed) == 2


def test_deleting_a_task_detaches_its_agents_and_conversations(
    engine: Engine, world: World
) -> None:
    before = snapshot(engine)
    expected = copy.deepcopy(before)
    del expected["tasks"][world.task]
    for table in ("agents", "conversations"):
        for row in expected[table].values():
            if row["task_id"] == world.task:
                row["task_id"] = None

    delete_with_core(engine, tasks, world.task)

    after = snapshot(engine)
    assert after == expected
    assert after["agents"][world.doomed]["task_id"] is None
    assert after["agents"][world.bystander]["task_id"] == world.other_task


def test_deleting_an_account_detaches_its_agents(engine: Engine, world: World) -> None:
    before = snapshot(engine)
    expected = copy.deepcopy(before)
    del expected["accounts"][world.account]
    for row in expected["agents"].values():
        if row["account_id"] == world.account:
            row["account_id"] = None

    removal = SqlAlchemyAccountRepository(engine).delete(world.account)

    assert snapshot(engine) == expected
    assert removal == {"agentsDetached": 2}


def test_deleting_an_initiative_takes_its_phases_tasks_and_proposals_but_keeps_agents(
    engine: Engine, world: World
) -> None:
    before = snapshot(engine)
    expected = copy.deepcopy(before)
    del expected["initiatives"][world.initiative]
    del expected["phases"][world.phase]
    del expected["tasks"][world.task]
    for id, row in before["proposals"].items():
        if row["initiative_id"] == world.initiative:
            del expected["proposals"][id]
    for row in expected["agents"].values():
        if row["initiative_id"] == world.initiative:
            row["initiative_id"] = None
        if row["task_id"] == world.task:
            row["task_id"] = None
    for row in expected["conversations"].values():
        for column, gone in (
            ("initiative_id", world.initiative),
            ("phase_id", world.phase),
            ("task_id", world.task),
        ):
            if row[column] == gone:
                row[column] = None

    delete_with_core(engine, initiatives, world.initiative)

    after = snapshot(engine)
    assert after == expected
    assert set(after["agents"]) == {world.doomed, world.peer, world.bystander}
    assert len(after["conversations"]) == 4
