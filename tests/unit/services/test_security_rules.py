"""The rules that keep one agent from hurting another: who may answer under a message,
malformed tokens, the pending-question cap and bounded pages."""

from __future__ import annotations

import pytest

from crosswalk.domain.enums import MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import (
    ForbiddenError,
    LimitExceededError,
    UnauthorizedError,
)
from crosswalk.domain.rows import Message
from crosswalk.domain.timestamps import utcnow
from crosswalk.services.auth import ADMIN, Authenticator, Principal
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.conversations import ConversationService
from crosswalk.services.human_questions import authorize_threaded
from crosswalk.services.limits import Limits
from crosswalk.services.targets import AgentTarget
from tests.unit.services.fakes import (
    FakeAgents,
    FakeConversations,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)

pytestmark = pytest.mark.anyio

USER, AGENT = ParticipantType.USER, ParticipantType.AGENT


def message(sender: str | None, recipient: str | None) -> Message:
    now = utcnow()
    return Message(
        id="m1",
        sender_type=USER if sender is None else AGENT,
        sender_id=sender,
        recipient_type=USER if recipient is None else AGENT,
        recipient_id=recipient,
        type=MessageType.QUESTION,
        content="?",
        requires_response=True,
        status=MessageStatus.PENDING,
        parent_message_id=None,
        task_id=None,
        created_at=now,
        updated_at=now,
    )


def test_only_the_person_responds_to_a_question_to_the_user() -> None:
    to_user = message("asker", None)
    authorize_threaded(ADMIN, to_user, MessageType.RESPONSE)
    for who in ("asker", "forger"):
        with pytest.raises(ForbiddenError, match="only the person"):
            authorize_threaded(Principal(who), to_user, MessageType.RESPONSE)


def test_an_agent_responds_only_to_what_was_sent_to_it() -> None:
    to_bob = message("alice", "bob")
    authorize_threaded(Principal("bob"), to_bob, MessageType.RESPONSE)
    with pytest.raises(ForbiddenError, match="addressed to agent 'bob'"):
        authorize_threaded(Principal("alice"), to_bob, MessageType.RESPONSE)
    authorize_threaded(Principal("alice"), to_bob, MessageType.INFO)  # its own thread
    with pytest.raises(ForbiddenError):
        authorize_threaded(Principal("carol"), to_bob, MessageType.INFO)


@pytest.mark.parametrize("token", ["\xff\xfe", "café", "a\nb", "a\x00b"])
def test_a_token_that_cannot_be_one_is_unauthorized(token: str) -> None:
    authenticator = Authenticator("cw_admin", FakeAgents())
    with pytest.raises(UnauthorizedError, match="malformed"):
        authenticator.authenticate(f"Bearer {token}")


def service(limits: Limits) -> ConversationService:
    tasks = FakeTasks()
    stream = ChangeStream()
    conversations = FakeConversations()
    agents = FakeAgents(make_agent("alice"), make_agent("bob"), make_agent("carol"), tasks=tasks)
    return ConversationService(
        conversations=conversations,
        agents=agents,
        unit_of_work=FakeUnitsOfWork(stream, conversations, agents),
        changes=stream,
        limits=limits,
    )


def test_the_cap_refuses_the_next_ask_and_an_answer_makes_room() -> None:
    svc = service(Limits(max_pending_questions=2))
    first = svc.ask("alice", "1?", AgentTarget("bob"))
    svc.ask("alice", "2?", AgentTarget("bob"))
    with pytest.raises(LimitExceededError, match="CW_MAX_PENDING_QUESTIONS"):
        svc.ask("alice", "3?", AgentTarget("bob"))
    svc.ask("carol", "to bob too?", AgentTarget("bob"))  # the cap is per asker and target
    svc.answer(first.id, "done")
    svc.ask("alice", "3?", AgentTarget("bob"))


async def test_pages_are_bounded_and_the_stream_reads_past_a_full_page() -> None:
    svc = service(Limits(page_size=2))
    asked = [svc.ask("alice", f"{n}?", AgentTarget("bob")).id for n in range(5)]
    assert [c.id for c in svc.pending("bob")] == asked[:2]
    assert [c.id for c in svc.pending("bob", after_id=asked[1])] == asked[2:4]
    assert [c.id for c in await svc.listen("bob", 0, after_id=asked[3])] == asked[4:]

    stream = svc.question_stream("bob")
    streamed = [(await anext(stream)).id for _ in range(5)]
    await stream.aclose()
    assert streamed == asked
