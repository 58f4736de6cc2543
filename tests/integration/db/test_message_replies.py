"""Replies to the user's questions, whole threads and an agent's open questions,
against a real SQLite file."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine

from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.message import SqlAlchemyMessageRepository
from crosswalk.domain.enums import MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import Agent, Message, NewAgent, NewMessage

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER


def tick() -> None:
    """Let the millisecond clock move, so creation order is observable."""
    time.sleep(0.003)


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyMessageRepository:
    return SqlAlchemyMessageRepository(engine)


@pytest.fixture
def agent(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/wt", name="worker"))


def question(repo: SqlAlchemyMessageRepository, agent: Agent, text: str = "?") -> Message:
    return repo.create(
        NewMessage(
            AGENT,
            USER,
            text,
            sender_id=agent.id,
            type=MessageType.QUESTION,
            requires_response=True,
        )
    )


def answer(parent: Message, text: str = "yes", **kw: Any) -> NewMessage:
    return NewMessage(
        USER,
        AGENT,
        text,
        recipient_id=parent.sender_id,
        type=MessageType.RESPONSE,
        parent_message_id=parent.id,
        **kw,
    )


def test_reply_inserts_the_reply_and_marks_the_parent_responded(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    asked = question(repo, agent)

    parent, reply = repo.reply(answer(asked, "use Postgres"))

    assert parent.id == asked.id
    assert parent.status is MessageStatus.RESPONDED
    assert parent.updated_at >= asked.updated_at
    assert (reply.parent_message_id, reply.content, reply.type) == (
        asked.id,
        "use Postgres",
        MessageType.RESPONSE,
    )
    assert repo.get(asked.id) == parent
    assert repo.find_replies(asked.id) == [reply]


def test_a_second_reply_conflicts_and_writes_nothing(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    asked = question(repo, agent)
    repo.reply(answer(asked, "first"))

    with pytest.raises(ConflictError, match=f"message '{asked.id}' is already responded to"):
        repo.reply(answer(asked, "second"))

    assert [m.content for m in repo.find_replies(asked.id)] == ["first"]


def test_racing_replies_have_exactly_one_winner(engine: Engine, agent: Agent) -> None:
    repo = SqlAlchemyMessageRepository(engine)
    asked = question(repo, agent)
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def reply(n: int) -> None:
        start.wait()
        try:
            repo.reply(answer(asked, f"answer {n}"))
            outcomes.append("won")
        except ConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=reply, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["lost"] * 5 + ["won"]
    assert len(repo.find_replies(asked.id)) == 1


def test_reply_names_what_is_missing(repo: SqlAlchemyMessageRepository, agent: Agent) -> None:
    with pytest.raises(NotFoundError, match="message 'ghost' not found"):
        repo.reply(NewMessage(USER, AGENT, "hi", recipient_id=agent.id, parent_message_id="ghost"))
    with pytest.raises(InvalidInputError) as no_parent:
        repo.reply(NewMessage(USER, AGENT, "hi", recipient_id=agent.id))
    assert no_parent.value.field == "parent_message_id"


def test_a_refused_reply_leaves_the_parent_pending(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    asked = question(repo, agent)

    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        repo.reply(NewMessage(USER, AGENT, "hi", recipient_id="ghost", parent_message_id=asked.id))

    assert repo.get(asked.id).status is MessageStatus.PENDING
    assert repo.find_replies(asked.id) == []


def test_find_thread_returns_every_reply_below_oldest_first(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    root = question(repo, agent, "root")
    tick()
    _, first = repo.reply(answer(root, "r1"))
    tick()
    nested = repo.create(
        NewMessage(AGENT, USER, "r1.1", sender_id=agent.id, parent_message_id=first.id)
    )
    tick()
    second = repo.create(answer(root, "r2"))
    other = question(repo, agent, "other")

    assert repo.find_thread(root.id) == [first, nested, second]
    assert repo.find_thread(first.id) == [nested]
    assert repo.find_thread(other.id) == []
    assert repo.find_thread("ghost") == []


def test_find_requiring_response_by_sender(
    repo: SqlAlchemyMessageRepository, agent: Agent, engine: Engine
) -> None:
    other = SqlAlchemyAgentRepository(engine).create(NewAgent("/wt2"))
    mine = question(repo, agent, "mine")
    theirs = question(repo, other, "theirs")
    answered = question(repo, agent, "answered")
    repo.reply(answer(answered))

    assert repo.find_requiring_response(sender_id=agent.id) == [mine]
    assert repo.find_requiring_response(sender_id=other.id) == [theirs]
    assert repo.find_requiring_response() == [mine, theirs]
