"""Questions to the user over in-memory repositories: the asking agent's state, the
inbox, replies, and waits woken by push."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from typing import Any

import pytest

from crosswalk.domain.enums import AgentStatus, MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ConflictError, NotFoundError, PreconditionFailedError
from crosswalk.domain.rows import Agent, AgentUpdate, Message, NewMessage
from crosswalk.services.human_questions import HumanQuestionService, reply_key
from crosswalk.services.notifier import InProcessNotifier
from tests.unit.services.fakes import make_agent, tick

pytestmark = pytest.mark.anyio

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER


class FakeAgents:
    """The agent port as the service uses it: find, get, update."""

    def __init__(self, *agents: Agent) -> None:
        self.rows = {agent.id: agent for agent in agents}

    def find_by_id(self, id: str) -> Agent | None:
        return self.rows.get(id)

    def get(self, id: str) -> Agent:
        if id not in self.rows:
            raise NotFoundError("agent", id)
        return self.rows[id]

    def update(self, id: str, changes: AgentUpdate) -> Agent:
        row = replace(self.get(id), **changes, updated_at=tick())  # type: ignore[arg-type]
        self.rows[id] = row
        return row


class FakeMessages:
    """The message port as the service uses it, with the adapter's ordering and rules."""

    def __init__(self) -> None:
        self.rows: dict[str, Message] = {}
        self._ids = itertools.count(1)

    def create(self, data: NewMessage) -> Message:
        if data.parent_message_id is not None:
            self.get(data.parent_message_id)
        now = tick()
        row = Message(
            id=f"m{next(self._ids)}", sender_type=data.sender_type, sender_id=data.sender_id,
            recipient_type=data.recipient_type, recipient_id=data.recipient_id, type=data.type,
            content=data.content, requires_response=data.requires_response, status=data.status,
            parent_message_id=data.parent_message_id, task_id=data.task_id, created_at=now,
            updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Message | None:
        return self.rows.get(id)

    def get(self, id: str) -> Message:
        if id not in self.rows:
            raise NotFoundError("message", id)
        return self.rows[id]

    def _oldest_first(self, rows: Any) -> list[Message]:
        return sorted(rows, key=lambda m: (m.created_at, m.id))

    def find_pending_for_user(self) -> list[Message]:
        return self._oldest_first(
            m for m in self.rows.values()
            if m.recipient_type is USER and m.status is MessageStatus.PENDING
        )  # fmt: skip

    def find_requiring_response(
        self, *, sender_id: str | None = None, task_id: str | None = None
    ) -> list[Message]:
        return self._oldest_first(
            m for m in self.rows.values()
            if m.requires_response and m.status is not MessageStatus.RESPONDED
            and (sender_id is None or m.sender_id == sender_id)
            and (task_id is None or m.task_id == task_id)
        )  # fmt: skip

    def find_replies(self, parent_message_id: str) -> list[Message]:
        return self._oldest_first(
            m for m in self.rows.values() if m.parent_message_id == parent_message_id
        )

    def find_thread(self, id: str) -> list[Message]:
        below = self.find_replies(id)
        for reply in list(below):
            below += self.find_thread(reply.id)
        return self._oldest_first(below)

    def update(self, id: str, changes: dict[str, Any]) -> Message:
        row = replace(self.get(id), **changes, updated_at=tick())
        self.rows[id] = row
        return row

    def reply(self, data: NewMessage) -> tuple[Message, Message]:
        assert data.parent_message_id is not None
        parent = self.get(data.parent_message_id)
        if parent.status is MessageStatus.RESPONDED:
            raise ConflictError(f"message '{parent.id}' is already responded to")
        parent = self.update(parent.id, {"status": MessageStatus.RESPONDED})
        return parent, self.create(data)

    def delete(self, id: str) -> dict[str, int]:
        below = self.find_thread(self.get(id).id)
        for message in [self.rows[id], *below]:
            del self.rows[message.id]
        return {"replies": len(below)}


@pytest.fixture
def agents() -> FakeAgents:
    return FakeAgents(make_agent("alice"), make_agent("bob"))


@pytest.fixture
def messages() -> FakeMessages:
    return FakeMessages()


@pytest.fixture
def service(agents: FakeAgents, messages: FakeMessages) -> HumanQuestionService:
    return HumanQuestionService(
        messages=messages,  # type: ignore[arg-type]
        agents=agents,  # type: ignore[arg-type]
        notifier=InProcessNotifier(),
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
    orphan = messages.create(NewMessage(AGENT, USER, "?", sender_id=None))

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
    await asyncio.sleep(0.01)
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


async def test_waiting_times_out_with_no_reply(service: HumanQuestionService) -> None:
    asked = service.ask("alice", "?")

    state = await service.wait_for_reply(asked.id, timeout_s=0.02)

    assert (state.question.status, state.reply) == (MessageStatus.PENDING, None)


async def test_closing_the_notifier_releases_the_waiter(service: HumanQuestionService) -> None:
    asked = service.ask("alice", "?")
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=600))
    await asyncio.sleep(0.01)

    service.notifier.close()

    assert (await asyncio.wait_for(waiting, 1.0)).reply is None


async def test_deleting_a_question_wakes_the_waiter_and_frees_the_agent(
    service: HumanQuestionService, agents: FakeAgents
) -> None:
    asked = service.ask("alice", "?")
    notifier = service.notifier
    assert isinstance(notifier, InProcessNotifier)
    waiting = asyncio.create_task(service.wait_for_reply(asked.id, timeout_s=600))
    await asyncio.sleep(0.01)
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

    assert service.sync_agent("bob") == before
    assert service.sync_agent("ghost") is None
