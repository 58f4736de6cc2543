"""The unit-of-work contract, for the fake and the SQLAlchemy adapter: a unit that
raises leaves every store as it was; one that ends normally keeps its writes; an inner
unit joins the outer one, so the outer one's exception undoes the inner one's writes,
and an exception the outer one catches undoes nothing (there are no savepoints)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.rows import (
    NewAccount,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewLogChunk,
    NewPhase,
    NewProject,
    NewTask,
)


class PlannedError(Exception):
    pass


def everything(ports: Ports, agent_ids: list[str], initiative_ids: list[str]) -> dict[str, Any]:
    """What the ports show, for comparing before and after."""
    tasks = ports.tasks.find_all()
    return {
        "agents": ports.agents.find_all(),
        "initiatives": ports.initiatives.find_all(),
        "phases": ports.phases.find_all(),
        "tasks": tasks,
        "dependencies": {t.id: ports.tasks.prerequisite_ids(t.id) for t in tasks},
        "conversations": ports.conversations.list_page(limit=100).items,
        "messages": ports.messages.find_all(),
        "projects": ports.projects.find_all(),
        "links": {i: ports.projects.find_projects_by_initiative_id(i) for i in initiative_ids},
        "accounts": ports.accounts.find_all(),
        "logs": {a: ports.log_chunks.find_by_agent_id(a) for a in agent_ids},
    }


def write_a_bit_of_everything(ports: Ports, alice: str, bob: str, initiative: str) -> None:
    project = ports.projects.create(NewProject("api", "https://example.com/api.git"))
    ports.projects.set_initiative_projects(initiative, [project.id])
    phase = ports.phases.create(NewPhase(initiative, "build"))
    first = ports.tasks.create(NewTask("first", phase_id=phase.id))
    second = ports.tasks.create(NewTask("second", phase_id=phase.id))
    ports.tasks.create_dependency(second.id, first.id)
    ports.agents.update(alice, {"status": AgentStatus.RUNNING, "task_id": first.id})
    ports.agents.create(NewAgent(name="carol", worktree_id="."))
    ports.conversations.create(NewConversation(alice, bob, "port?"))
    ports.accounts.create(NewAccount("a@example.com"))
    ports.log_chunks.insert_chunk(NewLogChunk(alice, "alice", "hello"))


@pytest.fixture
def seeded(ports: Ports) -> tuple[Ports, str, str, str]:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    bob = ports.agents.create(NewAgent(name="bob", worktree_id="."))
    initiative = ports.initiatives.create(NewInitiative("auth"))
    return ports, alice.id, bob.id, initiative.id


def test_a_unit_that_raises_leaves_every_store_as_it_was(
    seeded: tuple[Ports, str, str, str],
) -> None:
    ports, alice, bob, initiative = seeded
    before = everything(ports, [alice, bob], [initiative])
    with pytest.raises(PlannedError), ports.unit_of_work():
        write_a_bit_of_everything(ports, alice, bob, initiative)
        raise PlannedError
    assert everything(ports, [alice, bob], [initiative]) == before


def test_a_unit_that_ends_keeps_its_writes(seeded: tuple[Ports, str, str, str]) -> None:
    ports, alice, bob, initiative = seeded
    before = everything(ports, [alice, bob], [initiative])
    with ports.unit_of_work():
        write_a_bit_of_everything(ports, alice, bob, initiative)
    after = everything(ports, [alice, bob], [initiative])
    assert after != before
    assert [a.name for a in after["agents"]] == ["alice", "bob", "carol"]
    assert len(after["conversations"]) == len(after["logs"][alice]) == 1


def test_the_outer_units_exception_undoes_the_inner_units_writes(
    seeded: tuple[Ports, str, str, str],
) -> None:
    ports, alice, bob, initiative = seeded
    before = everything(ports, [alice, bob], [initiative])
    with pytest.raises(PlannedError), ports.unit_of_work():
        with ports.unit_of_work():
            write_a_bit_of_everything(ports, alice, bob, initiative)
        raise PlannedError
    assert everything(ports, [alice, bob], [initiative]) == before


def test_an_exception_caught_inside_the_outer_unit_undoes_nothing(
    seeded: tuple[Ports, str, str, str],
) -> None:
    ports = seeded[0]
    with ports.unit_of_work(), pytest.raises(PlannedError), ports.unit_of_work():
        ports.agents.create(NewAgent(name="carol", worktree_id="."))
        raise PlannedError
    assert [a.name for a in ports.agents.find_all()] == ["alice", "bob", "carol"]
