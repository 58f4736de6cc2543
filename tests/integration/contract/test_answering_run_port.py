"""The ``AnsweringRunRepository`` contract, for the fake and the SQLAlchemy adapter, and
``ConversationRepository.abandon`` that ends a run's unanswered questions."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import NewAgent, NewAnsweringRun, NewConversation


def test_a_run_starts_open_ends_once_and_is_listed(ports: Ports) -> None:
    bob = ports.agents.create(NewAgent(name="bob", worktree_id="."))
    runs = ports.answering_runs
    first = runs.start(NewAnsweringRun(agent_id=bob.id, session_number=2, question_ids=["q1"]))
    assert (first.session_number, first.question_ids, first.ended_at) == (2, ["q1"], None)
    assert runs.find_open() == [first]
    assert runs.find_open(bob.id) == [first]
    assert runs.find_open("someone-else") == []

    ended = runs.finish(first.id, "answered", ["notes.txt"])
    assert ended.ended_at is not None
    assert (ended.outcome, ended.left_changes) == ("answered", ["notes.txt"])
    assert runs.finish(first.id, "timed out", None) == ended  # the first end stays
    assert runs.find_open() == []

    second = runs.start(NewAnsweringRun(agent_id=bob.id, session_number=3, question_ids=[]))
    assert [r.id for r in runs.find_by_agent(bob.id)] == [second.id, first.id]
    assert [r.id for r in runs.find_by_agent(bob.id, limit=1)] == [second.id]


def test_unknown_agent_or_run_is_not_found(ports: Ports) -> None:
    with pytest.raises(NotFoundError, match="agent 'nobody' not found"):
        ports.answering_runs.start(
            NewAnsweringRun(agent_id="nobody", session_number=1, question_ids=[])
        )
    with pytest.raises(NotFoundError):
        ports.answering_runs.finish("nope", "answered", None)


def test_abandon_ends_only_the_named_questions_still_pending(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    bob = ports.agents.create(NewAgent(name="bob", worktree_id="."))
    conversations = ports.conversations
    one, two, three = (
        conversations.create(
            NewConversation(from_agent_id=alice.id, to_agent_id=bob.id, question=f"q{i}")
        )
        for i in range(3)
    )
    conversations.answer(one.id, "done")
    gone = conversations.abandon([one.id, two.id, "missing"], "bob ended without answering")
    assert [c.id for c in gone] == [two.id]
    assert gone[0].status is ConversationStatus.ABANDONED
    assert gone[0].abandoned_reason == "bob ended without answering"
    assert conversations.get(one.id).status is ConversationStatus.ANSWERED
    assert conversations.get(three.id).status is ConversationStatus.PENDING
    assert conversations.abandon([], "nothing") == []
