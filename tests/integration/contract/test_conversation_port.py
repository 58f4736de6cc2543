"""The ``ConversationRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import ConversationStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import Agent, NewAgent, NewConversation, NewMessage
from crosswalk.domain.wait_graph import PERSON, WaitEdge


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
    carol = ports.agents.create(NewAgent(name="carol", worktree_id="."))
    onward = conversations.create(
        NewConversation(from_agent_id=bob.id, to_agent_id=carol.id, question="onward")
    )
    assert conversations.find_pending_for_agent(bob.id) == asked
    assert conversations.find_pending_for_agent(bob.id, after_id=asked[0].id) == asked[1:]
    assert conversations.find_pending_involving(bob.id) == [*asked, onward]
    conversations.answer(asked[1].id, "done")
    assert conversations.find_pending_for_agent(bob.id) == [asked[0], asked[2]]


def test_answer_once_exactly(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = conversations.create(
        NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question="?")
    )
    answered = conversations.answer(asked.id, "443")
    assert answered is not None
    assert (answered.status, answered.answer) == (ConversationStatus.ANSWERED, "443")
    assert answered.updated_at > asked.updated_at
    assert conversations.answer(asked.id, "80") is None  # no longer pending: nothing changes
    assert conversations.get(asked.id).answer == "443"
    assert conversations.answer("nope", "x") is None


def test_with_an_addressee_only_a_question_to_it_is_answered(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = conversations.create(
        NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question="?")
    )
    assert conversations.answer(asked.id, "mine", addressed_to=alice.id) is None
    assert conversations.get(asked.id) == asked
    answered = conversations.answer(asked.id, "443", addressed_to=bob.id)
    assert answered is not None and answered.answer == "443"
    assert conversations.answer(asked.id, "80", addressed_to=bob.id) is None


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


def test_the_open_wait_edges_of_an_agent_are_its_pending_questions(ports: Ports) -> None:
    """``create`` stores what it is given (refusing a wait cycle is the service's);
    ``waits_of`` reads the graph the service walks."""
    alice, bob = _pair(ports)
    carol = ports.agents.create(NewAgent(name="carol", worktree_id="."))
    conversations = ports.conversations
    first = conversations.create(NewConversation(alice.id, bob.id, "a->b"))
    second = conversations.create(NewConversation(bob.id, carol.id, "b->c"))
    closing = conversations.create(NewConversation(carol.id, alice.id, "c->a"))
    conversations.lock_wait_graph()  # nothing to hold outside a transaction
    assert conversations.waits_of(alice.id) == [WaitEdge(alice.id, bob.id, first.id)]
    assert conversations.waits_of(carol.id) == [WaitEdge(carol.id, alice.id, closing.id)]
    conversations.answer(second.id, "done")
    assert conversations.waits_of(bob.id) == []
    assert conversations.waits_of(PERSON) == []


def test_abandon_ends_the_pending_questions_to_an_agent(ports: Ports) -> None:
    alice, bob = _pair(ports)
    conversations = ports.conversations
    pending = conversations.create(NewConversation(alice.id, bob.id, "?"))
    answered = conversations.create(NewConversation(alice.id, bob.id, "!"))
    conversations.answer(answered.id, "ok")

    [abandoned] = conversations.abandon_pending_to(bob.id, "agent bob crashed")

    assert (abandoned.id, abandoned.status) == (pending.id, ConversationStatus.ABANDONED)
    assert abandoned.abandoned_reason == "agent bob crashed"
    assert conversations.get(answered.id).status is ConversationStatus.ANSWERED
    assert conversations.answer(pending.id, "too late") is None


def _question_to_the_person(ports: Ports, agent: Agent) -> str:
    message = ports.messages.create(
        NewMessage(
            sender_type=ParticipantType.AGENT,
            sender_id=agent.id,
            recipient_type=ParticipantType.USER,
            type=MessageType.QUESTION,
            content="Postgres or SQLite?",
            requires_response=True,
        )
    )
    return message.id


def test_the_person_asks_and_the_wait_edges_know_the_person(ports: Ports) -> None:
    """A conversation without an asking agent is the person's, an edge from ``PERSON``;
    an agent's open question to the person is an edge to it."""
    alice, bob = _pair(ports)
    conversations = ports.conversations
    asked = conversations.create(
        NewConversation(from_agent_id=None, to_agent_id=alice.id, question="what changed?")
    )
    assert (asked.from_agent_id, asked.to_agent_id) == (None, alice.id)
    assert conversations.find_pending_involving(alice.id) == [asked]
    assert conversations.waits_of(PERSON) == [WaitEdge(PERSON, alice.id, asked.id)]
    message_id = _question_to_the_person(ports, bob)
    assert conversations.waits_of(bob.id) == [WaitEdge(bob.id, PERSON, message_id)]
    assert conversations.waits_of(alice.id) == []
    ports.messages.reply(
        NewMessage(
            ParticipantType.USER,
            ParticipantType.AGENT,
            "SQLite",
            recipient_id=bob.id,
            parent_message_id=message_id,
        )
    )
    assert conversations.waits_of(bob.id) == []
