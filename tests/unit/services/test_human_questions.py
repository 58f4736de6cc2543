"""Questions to the user over in-memory repositories: the asking agent's state, the
inbox, replies, and waits woken by push."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from crosswalk.domain.enums import AgentStatus, MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ConflictError, NotFoundError, PreconditionFailedError
from crosswalk.domain.events import reply_key
from crosswalk.domain.rows import Agent, NewMessage
from crosswalk.services.agents import AgentService
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.human_questions import HumanQuestionService
from tests.unit.services.fake_clock import FakeClock, until
from tests.unit.services.fakes import (
    FakeAgents,
    FakeConversations,
    FakeMessages,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)

pytestmark = pytest.mark.anyio

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER


async def parked(service: HumanQuestionService, message_id: str) -> None:
    """Until one request waits for the reply to ``message_id``."""
    await until(lambda: service.changes.waiting(reply_key(message_id)) == 1)


@pytest.fixture
def agents() -> FakeAgents:
    return FakeAgents(make_agent("alice"), make_agent("bob"))


@pytest.fixture
def messages() -> FakeMessages:
    return FakeMessages()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(agents: FakeAgents, messages: FakeMessages, clock: FakeClock) -> HumanQuestionService:
    stream = ChangeStream(clock)
    tasks, conversations = FakeTasks(), FakeConversations()
    units = FakeUnitsOfWork(stream, agents, tasks, messages, conversations)
    agent_service = AgentService(
        agents=agents,
        tasks=tasks,
        messages=messages,
        conversations=conversations,
        unit_of_work=units,
    )
    return HumanQuestionService(
        messages=messages,
        agents=agent_service,
        unit_of_work=units,
        changes=stream,
    )


def pending_ids(agent: Agent) -> list[str]:
    return [question["messageId"] for question in agent.pending_questions or []]


async def test_asking_records_a_question_and_the_agent_waits_for_input(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    question = service.ask("alice", "Postgres or SQLite?")

    assert (question.sender_type, question.sender_id) == (AGENT, "alice")
    assert (question.recipient_type, question.recipient_id) == (USER, None)
    assert (question.type, question.requires_response, question.status) == (
        MessageType.QUESTION,
        True,
        MessageStatus.PENDING,
    )
    alice = agents.get("alice")
    assert alice.status is AgentStatus.WAITING_FOR_INPUT
    assert alice.pending_questions == [
        {
            "messageId": question.id,
            "text": "Postgres or SQLite?",
            "askedAt": question.created_at.isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"
            ),
        }
    ]
    assert agents.get("bob").status is AgentStatus.RUNNING


async def test_an_unknown_agent_cannot_ask(service: HumanQuestionService) -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        service.ask("ghost", "?")


async def test_the_agent_runs_again_only_when_every_question_is_answered(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    first = service.ask("alice", "one?")
    second = service.ask("alice", "two?")
    assert pending_ids(agents.get("alice")) == [first.id, second.id]

    service.reply(first.id, "1")
    alice = agents.get("alice")
    assert (alice.status, pending_ids(alice)) == (AgentStatus.WAITING_FOR_INPUT, [second.id])

    service.reply(second.id, "2")
    alice = agents.get("alice")
    assert (alice.status, alice.pending_questions) == (AgentStatus.RUNNING, None)


async def test_reply_threads_under_the_question_and_answers_it_once(
    service: HumanQuestionService,
) -> None:
    asked = service.ask("alice", "?")

    question, reply = service.reply(asked.id, "Use Postgres.")

    assert question.status is MessageStatus.RESPONDED
    assert (reply.sender_type, reply.recipient_type, reply.recipient_id) == (USER, AGENT, "alice")
    assert (reply.type, reply.parent_message_id, reply.content) == (
        MessageType.RESPONSE,
        asked.id,
        "Use Postgres.",
    )
    state = service.state(asked.id)
    assert (state.responded, state.reply) == (True, reply)
    with pytest.raises(ConflictError, match="already responded"):
        service.reply(asked.id, "again")


async def test_only_messages_to_the_user_can_be_replied_to(
    service: HumanQuestionService, messages: FakeMessages
) -> None:
    to_bob = messages.create(NewMessage(AGENT, AGENT, "hi", sender_id="alice", recipient_id="bob"))
    orphan = messages.create(NewMessage(AGENT, USER, "?", sender_id="carol"))
    orphan = messages.rows[orphan.id] = replace(orphan, sender_id=None)  # carol was deleted

    with pytest.raises(PreconditionFailedError, match="addressed to agent 'bob'"):
        service.reply(to_bob.id, "no")
    with pytest.raises(PreconditionFailedError, match="was deleted"):
        service.reply(orphan.id, "no")
    with pytest.raises(NotFoundError, match="message 'nope' not found"):
        service.reply("nope", "no")


async def test_the_inbox_holds_what_waits_for_the_user_oldest_first(
    service: HumanQuestionService, messages: FakeMessages
) -> None:
    fyi = messages.create(NewMessage(AGENT, USER, "fyi", sender_id="bob"))
    read_question = service.ask("alice", "read but unanswered?")
    messages.update(read_question.id, {"status": MessageStatus.READ})
    answered = service.ask("bob", "answered?")
    service.reply(answered.id, "yes")
    messages.create(NewMessage(AGENT, USER, "seen", sender_id="bob", status=MessageStatus.READ))
    newest = service.ask("bob", "newest?")

    assert [m.id for m in service.inbox()] == [fyi.id, read_question.id, newest.id]


async def test_a_waiting_request_wakes_when_the_reply_commits(
    service: HumanQuestionService,
) -> None:
    asked = service.ask("alice", "?")
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=30))
    await parked(service, asked.id)
    assert not waiting.done()

    _, reply = service.reply(asked.id, "go")

    state = await asyncio.wait_for(waiting, 1.0)
    assert (state.question.status, state.reply) == (MessageStatus.RESPONDED, reply)


async def test_waiting_returns_at_once_when_already_answered(
    service: HumanQuestionService,
) -> None:
    asked = service.ask("alice", "?")
    service.reply(asked.id, "go")

    state = await asyncio.wait_for(service.wait_for_reply(asked.id, timeout_s=30), 1.0)

    assert state.reply is not None and state.reply.content == "go"


async def test_waiting_times_out_with_no_reply(
    service: HumanQuestionService, clock: FakeClock
) -> None:
    asked = service.ask("alice", "?")
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=20))
    await parked(service, asked.id)

    clock.advance(20)

    state = await waiting

    assert (state.question.status, state.reply) == (MessageStatus.PENDING, None)


async def test_closing_the_change_stream_releases_the_waiter(service: HumanQuestionService) -> None:
    asked = service.ask("alice", "?")
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=600))
    await parked(service, asked.id)

    service.changes.close()

    assert (await asyncio.wait_for(waiting, 1.0)).reply is None


async def test_deleting_a_question_wakes_the_waiter_and_frees_the_agent(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    asked = service.ask("alice", "?")
    notifier = service.changes
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=600))
    await parked(service, asked.id)
    assert notifier.waiting(reply_key(asked.id)) == 1

    message, removed = service.delete(asked.id)

    assert (message.id, removed) == (asked.id, {"replies": 0})
    with pytest.raises(NotFoundError):
        await asyncio.wait_for(waiting, 1.0)
    alice = agents.get("alice")
    assert (alice.status, alice.pending_questions) == (AgentStatus.RUNNING, None)


async def test_a_stopped_agent_keeps_its_status_when_its_question_is_answered(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    asked = service.ask("alice", "?")
    agents.update("alice", {"status": AgentStatus.CRASHED})

    service.reply(asked.id, "too late")

    alice = agents.get("alice")
    assert (alice.status, alice.pending_questions) == (AgentStatus.CRASHED, None)


async def test_sync_leaves_an_agent_without_questions_untouched(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    before = agents.get("bob")

    with service.unit_of_work() as uow:
        assert service.agents.sync_open_questions(uow, "bob") == before
        assert service.agents.sync_open_questions(uow, "ghost") is None
