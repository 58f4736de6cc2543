"""The ``AgentRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import re
from typing import cast

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import AgentUpdate, NewAgent


def test_create_then_find_by_id_name_and_token(ports: Ports) -> None:
    agents = ports.agents
    alice = agents.create(NewAgent(name="alice", worktree_id=".", token_hash="t" * 64))
    assert (alice.name, alice.status, alice.pending_questions) == ("alice", AgentStatus.IDLE, None)
    assert agents.get(alice.id) == agents.find_by_id(alice.id) == alice
    assert agents.find_by_name("alice") == alice
    assert agents.find_by_token_hash("t" * 64) == alice
    assert agents.find_by_id("ghost") is None
    assert agents.find_by_name("ghost") is None
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        agents.get("ghost")


def test_names_are_unique_and_an_unnamed_agent_gets_an_alias(ports: Ports) -> None:
    agents = ports.agents
    agents.create(NewAgent(name="alice", worktree_id="."))
    with pytest.raises(ConflictError, match="'alice' is already taken"):
        agents.create(NewAgent(name="alice", worktree_id="."))
    named = [agents.create(NewAgent(name=None, worktree_id=".")).name for _ in range(5)]
    assert len(set(named)) == 5
    assert all(re.fullmatch(r"[a-z]+-[a-z]+(-\w+)?", name) for name in named)


def test_update_changes_only_what_is_given_and_moves_updated_at(ports: Ports) -> None:
    agents = ports.agents
    alice = agents.create(NewAgent(name="alice", worktree_id="."))
    running = agents.update(alice.id, {"status": AgentStatus.RUNNING, "result": {"ok": 1}})
    assert (running.status, running.result, running.name) == (
        AgentStatus.RUNNING,
        {"ok": 1},
        "alice",
    )
    assert running.updated_at > alice.updated_at
    assert agents.find_by_status(AgentStatus.RUNNING) == [running]
    with pytest.raises(NotFoundError):
        agents.update("ghost", {"status": AgentStatus.RUNNING})
    with pytest.raises(InvalidInputError):
        agents.update(alice.id, cast(AgentUpdate, {"no_such_field": 1}))


def test_list_pages_in_creation_order_with_filters(ports: Ports) -> None:
    agents = ports.agents
    made = [agents.create(NewAgent(name=f"a{i}", worktree_id=".")) for i in range(5)]
    agents.update(made[3].id, {"status": AgentStatus.STOPPED})
    seen, cursor = [], None
    while True:
        page = agents.list_page(limit=2, cursor=cursor)
        seen += [a.name for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["a0", "a1", "a2", "a3", "a4"]
    stopped = agents.list_page(status=AgentStatus.STOPPED)
    assert ([a.name for a in stopped.items], stopped.next_cursor) == (["a3"], None)


def test_delete_removes_the_agent(ports: Ports) -> None:
    agents = ports.agents
    alice = agents.create(NewAgent(name="alice", worktree_id="."))
    agents.delete(alice.id)
    assert agents.find_by_id(alice.id) is None
    with pytest.raises(NotFoundError):
        agents.delete(alice.id)
