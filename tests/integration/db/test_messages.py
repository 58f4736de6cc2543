"""The message repository, threads included, against a real SQLite file."""

from __future__ import annotations

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
PENDING, READ, RESPONDED = MessageStatus


def tick() -> None:
    """Let the millisecond clock move, so creation order is observable."""
    time.sleep(0.003)


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyMessageRepository:
    return SqlAlchemyMessageRepository(engine)


@pytest.fixture
def agent(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/wt", name="worker"))


def to_user(repo: SqlAlchemyMessageRepository, agent: Agent, content: str, **kw: Any) -> Message:
    return repo.create(NewMessage(AGENT, USER, content, sender_id=agent.id, **kw))


def to_agent(repo: SqlAlchemyMessageRepository, agent: Agent, content: str, **kw: Any) -> Message:
    return repo.create(NewMessage(USER, AGENT, content, recipient_id=agent.id, **kw))


def test_create_stores_the_message_with_defaults(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    message = to_user(repo, agent, "Which database should I use?")

    assert len(message.id) == 21
    assert (message.sender_type, message.sender_id) == (AGENT, agent.id)
    assert (message.recipient_type, message.recipient_id) == (USER, None)
    assert message.content == "Which database should I use?"
    assert (message.type, message.status, message.requires_response) == (
        MessageType.INFO,
        PENDING,
        False,
    )
    assert message.parent_message_id is None
    assert message.created_at == message.updated_at
    assert repo.get(message.id) == message


def test_create_names_a_missing_agent(repo: SqlAlchemyMessageRepository) -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        repo.create(NewMessage(AGENT, USER, "hi", sender_id="ghost"))
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        repo.create(NewMessage(USER, AGENT, "hi", recipient_id="ghost"))
    assert repo.find_all() == []


def test_participants_must_match_their_type(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    with pytest.raises(InvalidInputError) as no_id:
        repo.create(NewMessage(AGENT, USER, "hi"))
    assert no_id.value.field == "sender_id"
    with pytest.raises(InvalidInputError) as user_with_id:
        repo.create(NewMessage(AGENT, USER, "hi", sender_id=agent.id, recipient_id=agent.id))
    assert user_with_id.value.field == "recipient_id"


def test_replies_form_a_thread_oldest_first(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    question = to_user(repo, agent, "?", type=MessageType.QUESTION, requires_response=True)
    tick()
    first = to_agent(repo, agent, "A", type=MessageType.RESPONSE, parent_message_id=question.id)
    tick()
    second = to_agent(repo, agent, "B", parent_message_id=question.id)
    nested = to_user(repo, agent, "thanks", parent_message_id=first.id)

    assert first.parent_message_id == question.id
    assert repo.find_replies(question.id) == [first, second]
    assert repo.find_replies(first.id) == [nested]
    assert repo.find_replies(nested.id) == []


def test_a_reply_to_a_missing_message_is_not_found(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    with pytest.raises(NotFoundError) as raised:
        to_agent(repo, agent, "re", parent_message_id="ghost")

    assert (raised.value.kind, raised.value.id) == ("message", "ghost")
    assert repo.find_all() == []


def test_find_pending_for_user_is_oldest_first_and_only_pending_user_messages(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    older = to_user(repo, agent, "1")
    tick()
    newer = to_user(repo, agent, "2")
    to_user(repo, agent, "read", status=READ)
    to_agent(repo, agent, "to the agent")

    assert repo.find_pending_for_user() == [older, newer]


def test_find_requiring_response_excludes_responded_and_optional_messages(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    waiting = to_user(repo, agent, "1", requires_response=True)
    tick()
    read = to_agent(repo, agent, "2", requires_response=True, status=READ)
    answered = to_user(repo, agent, "3", requires_response=True)
    to_user(repo, agent, "fyi")

    repo.update(answered.id, {"status": RESPONDED})

    assert repo.find_requiring_response() == [waiting, read]


def test_update_moves_updated_at_and_an_empty_update_changes_nothing(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    message = to_user(repo, agent, "hi")
    tick()

    assert repo.update(message.id, {}) == message
    updated = repo.update(message.id, {"status": READ, "content": "hi!"})

    assert (updated.status, updated.content) == (READ, "hi!")
    assert updated.updated_at > message.updated_at
    assert repo.get(message.id) == updated


def test_delete_takes_the_whole_thread_and_counts_it(
    repo: SqlAlchemyMessageRepository, agent: Agent
) -> None:
    root = to_user(repo, agent, "root")
    reply = to_agent(repo, agent, "r1", parent_message_id=root.id)
    to_user(repo, agent, "r1.1", parent_message_id=reply.id)
    deep = to_agent(repo, agent, "r1.1.1", parent_message_id=repo.find_replies(reply.id)[0].id)
    to_agent(repo, agent, "r2", parent_message_id=root.id)
    unrelated = to_user(repo, agent, "other")

    assert repo.delete(reply.id) == {"replies": 2}
    assert repo.find_by_id(deep.id) is None
    assert repo.delete(root.id) == {"replies": 1}
    assert repo.find_all() == [unrelated]
    assert repo.delete(unrelated.id) == {"replies": 0}


def test_unknown_ids_are_not_found(repo: SqlAlchemyMessageRepository) -> None:
    for call in (
        lambda: repo.get("nope"),
        lambda: repo.update("nope", {"status": READ}),
        lambda: repo.update("nope", {}),
        lambda: repo.delete("nope"),
    ):
        with pytest.raises(NotFoundError, match="message 'nope' not found"):
            call()


def test_list_page_filters_and_pages(
    repo: SqlAlchemyMessageRepository, agent: Agent, engine: Engine
) -> None:
    other = SqlAlchemyAgentRepository(engine).create(NewAgent("/wt2"))
    sent = [to_user(repo, agent, str(i)) for i in range(5)]
    root = to_agent(repo, other, "root")
    reply = to_user(repo, other, "reply", parent_message_id=root.id)

    first = repo.list_page(sender_id=agent.id, limit=2)
    second = repo.list_page(sender_id=agent.id, limit=2, cursor=first.next_cursor)
    third = repo.list_page(sender_id=agent.id, limit=2, cursor=second.next_cursor)

    assert first.items + second.items + third.items == sorted(
        sent, key=lambda m: (m.created_at, m.id)
    )
    assert third.next_cursor is None
    assert repo.list_page(recipient_type=AGENT).items == [root]
    assert repo.list_page(recipient_id=other.id, status=PENDING).items == [root]
    assert repo.list_page(parent_message_id=root.id).items == [reply]
    assert len(repo.list_page(sender_type=USER).items) == 1


def test_a_client_chosen_id_is_stored_once(repo: SqlAlchemyMessageRepository, agent: Agent) -> None:
    """Replaying a retried send is ``HumanQuestionService``'s (``test_service_rules.py``);
    the adapter refuses a taken id."""
    first = to_user(repo, agent, "may I?", id="client-made-id-000001")
    with pytest.raises(ConflictError, match="already taken"):
        to_user(repo, agent, "may I?", id="client-made-id-000001")
    assert [m.id for m in repo.find_pending_for_user()] == [first.id]
