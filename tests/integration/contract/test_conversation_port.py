"""The ``ConversationRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import Agent, NewAgent, NewConversation


def _pair(ports: Ports) -> tuple[Agent, Agent]:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    bob = ports.agents.create(NewAgent(name="bob", worktree_id="."))
    return alice, bob


def test_create_is_pending_and_a_taken_id_is_a_conflict(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = conversations.create(
        NewConversation(id="q1", from_agent_id=alice.id, to_agent_id=bob.id, question="?")
    )
    assert (asked.id, asked.status, asked.answer) == ("q1", ConversationStatus.PENDING, None)
    with pytest.raises(ConflictError, match="already taken"):
        conversations.create(
            NewConversation(id="q1", from_agent_id=alice.id, to_agent_id=bob.id, question="?")
        )
    assert conversations.get("q1") == asked
    with pytest.raises(NotFoundError, match="conversation 'nope' not found"):
        conversations.get("nope")


def test_pending_for_an_agent_oldest_first_and_after_one(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = [
        conversations.create(
            NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question=f"q{i}")
        )
        for i in range(3)
    ]
    back = conversations.create(
        NewConversation(from_agent_id=bob.id, to_agent_id=alice.id, question="back")
    )
    assert conversations.find_pending_for_agent(bob.id) == asked
    assert conversations.find_pending_for_agent(bob.id, after_id=asked[0].id) == asked[1:]
    assert conversations.find_pending_involving(bob.id) == [*asked, back]
    conversations.answer(asked[1].id, "done")
    assert conversations.find_pending_for_agent(bob.id) == [asked[0], asked[2]]


def test_answer_once_exactly(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = conversations.create(
        NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question="?")
    )
    answered = conversations.answer(asked.id, "443")
    assert (answered.status, answered.answer) == (ConversationStatus.ANSWERED, "443")
    assert answered.updated_at > asked.updated_at
    with pytest.raises(ConflictError, match="already answered"):
        conversations.answer(asked.id, "80")
    assert conversations.get(asked.id).answer == "443"
    with pytest.raises(NotFoundError):
        conversations.answer("nope", "x")


def test_list_newest_first_paged_and_filtered(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = [
        conversations.create(
            NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question=f"q{i}")
        )
        for i in range(5)
    ]
    conversations.answer(asked[2].id, "a")
    seen, cursor = [], None
    while True:
        page = conversations.list_page(agent_id=bob.id, limit=2, cursor=cursor)
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [c.question for c in seen] == ["q4", "q3", "q2", "q1", "q0"]
    answered = conversations.list_page(status=ConversationStatus.ANSWERED)
    assert [c.question for c in answered.items] == ["q2"]
