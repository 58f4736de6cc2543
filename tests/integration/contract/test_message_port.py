"""The ``MessageRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from typing import cast

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import MessageUpdate, NewAgent, NewMessage

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER


def _question(ports: Ports, sender_id: str, text: str = "Go?") -> NewMessage:
    return NewMessage(
        AGENT, USER, text, sender_id=sender_id, type=MessageType.QUESTION, requires_response=True
    )


def test_create_checks_participants_and_refuses_a_taken_id(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    messages = ports.messages
    with pytest.raises(InvalidInputError, match="an agent sender needs sender_id"):
        messages.create(NewMessage(AGENT, USER, "?", sender_id=None))
    first = messages.create(NewMessage(AGENT, USER, "hi", sender_id=alice.id, id="m1"))
    with pytest.raises(ConflictError, match="already taken"):
        messages.create(NewMessage(AGENT, USER, "hi", sender_id=alice.id, id="m1"))
    assert messages.find_all() == [first]
    with pytest.raises(NotFoundError, match="message 'nope' not found"):
        messages.get("nope")


def test_questions_for_the_user_and_their_reply(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    messages = ports.messages
    info = messages.create(NewMessage(AGENT, USER, "fyi", sender_id=alice.id))
    question = messages.create(_question(ports, alice.id))
    assert messages.find_pending_for_user() == [info, question]
    assert messages.find_requiring_response(sender_id=alice.id) == [question]

    parent, reply = messages.reply(
        NewMessage(USER, AGENT, "Go.", recipient_id=alice.id, parent_message_id=question.id)
    )
    assert parent.status is MessageStatus.RESPONDED
    assert (reply.parent_message_id, reply.content) == (question.id, "Go.")
    assert messages.find_requiring_response(sender_id=alice.id) == []
    assert messages.find_replies(question.id) == [reply]
    with pytest.raises(ConflictError, match="already responded to"):
        messages.reply(
            NewMessage(USER, AGENT, "again", recipient_id=alice.id, parent_message_id=question.id)
        )


def test_a_thread_goes_with_its_root(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    messages = ports.messages
    root = messages.create(_question(ports, alice.id))
    first = messages.create(
        NewMessage(USER, AGENT, "a", recipient_id=alice.id, parent_message_id=root.id)
    )
    second = messages.create(
        NewMessage(AGENT, USER, "b", sender_id=alice.id, parent_message_id=first.id)
    )
    assert messages.find_thread(root.id) == [first, second]
    assert messages.delete(root.id) == {"replies": 2}
    assert [messages.find_by_id(m.id) for m in (root, first, second)] == [None, None, None]


def test_update_and_list(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    messages = ports.messages
    made = [messages.create(NewMessage(AGENT, USER, f"m{i}", sender_id=alice.id)) for i in range(3)]
    read = messages.update(made[1].id, {"status": MessageStatus.READ})
    assert read.status is MessageStatus.READ and read.updated_at > made[1].updated_at
    with pytest.raises(InvalidInputError):
        messages.update(made[1].id, cast(MessageUpdate, {"nope": 1}))
    page = messages.list_page(sender_id=alice.id, limit=2)
    assert [m.content for m in page.items] == ["m0", "m1"]
    rest = messages.list_page(sender_id=alice.id, limit=2, cursor=page.next_cursor)
    assert ([m.content for m in rest.items], rest.next_cursor) == (["m2"], None)
    assert [m.content for m in messages.list_page(status=MessageStatus.READ).items] == ["m1"]


def test_what_the_person_said_to_an_agent_is_pending_until_marked_read_once(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(name="alice", worktree_id="."))
    bob = ports.agents.create(NewAgent(name="bob", worktree_id="."))
    messages = ports.messages
    first = messages.create(NewMessage(USER, AGENT, "use port 8080", recipient_id=bob.id))
    second = messages.create(NewMessage(USER, AGENT, "and log in JSON", recipient_id=bob.id))
    # none of these is something the person told bob
    messages.create(NewMessage(USER, AGENT, "for alice", recipient_id=alice.id))
    messages.create(NewMessage(AGENT, AGENT, "peer", sender_id=alice.id, recipient_id=bob.id))
    messages.create(NewMessage(USER, AGENT, "old", recipient_id=bob.id, status=MessageStatus.READ))
    question = messages.create(_question(ports, bob.id))
    _, reply = messages.reply(  # the person's reply to bob's question is said to bob too
        NewMessage(USER, AGENT, "yes", recipient_id=bob.id, parent_message_id=question.id)
    )

    assert messages.find_pending_from_user(bob.id) == [first, second, reply]

    taken = messages.mark_read([second.id, reply.id, first.id, "missing"])
    assert [(m.id, m.status) for m in taken] == [
        (first.id, MessageStatus.READ),
        (second.id, MessageStatus.READ),
        (reply.id, MessageStatus.READ),
    ]
    assert messages.mark_read([first.id, second.id]) == []  # each is handed out once
    assert messages.find_pending_from_user(bob.id) == []
    assert messages.mark_read([]) == []
