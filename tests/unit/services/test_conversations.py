"""The conversation service over in-memory repositories: ask, answer, and push waits."""

from __future__ import annotations

import asyncio

import pytest

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import ConflictError, ForbiddenError, NotFoundError, WaitCycleError
from crosswalk.domain.events import QuestionAnswered, answer_key, question_key
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.conversations import ConversationService
from crosswalk.services.targets import AgentTarget
from tests.unit.services.fake_clock import FakeClock, turns, until
from tests.unit.services.fakes import (
    FakeAgents,
    FakeConversations,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(clock: FakeClock) -> ConversationService:
    tasks = FakeTasks()
    stream = ChangeStream(clock)
    conversations = FakeConversations()
    agents = FakeAgents(make_agent("alice"), make_agent("bob"), tasks=tasks)
    return ConversationService(
        conversations=conversations,
        agents=agents,
        unit_of_work=FakeUnitsOfWork(stream, conversations, agents),
        changes=stream,
    )


async def test_listen_returns_at_once_when_a_question_is_pending(
    service: ConversationService,
) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    assert [c.id for c in await service.listen("bob", timeout_s=5)] == [asked.id]


async def parked(service: ConversationService, key: str) -> None:
    """Until one waiter waits on ``key`` (it has subscribed and read)."""
    await until(lambda: service.changes.waiting(key) == 1)


async def test_listen_wakes_on_ask_and_times_out_empty(
    service: ConversationService, clock: FakeClock
) -> None:
    timing_out = asyncio.create_task(service.listen("bob", timeout_s=20))
    await parked(service, question_key("bob"))
    clock.advance(20)
    assert await timing_out == []
    listening = asyncio.create_task(service.listen("bob", timeout_s=30))
    await parked(service, question_key("bob"))
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    found = await asyncio.wait_for(listening, 1.0)
    assert [c.id for c in found] == [asked.id]


async def test_wait_for_answer_wakes_on_answer(service: ConversationService) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    waiting = asyncio.create_task(service.wait_for_answer(asked.id, timeout_s=30))
    await parked(service, answer_key(asked.id))
    assert not waiting.done()
    service.answer(asked.id, "8443", acting_agent_id="bob")
    answered = await asyncio.wait_for(waiting, 1.0)
    assert (answered.status, answered.answer) == (ConversationStatus.ANSWERED, "8443")


async def test_a_waiter_woken_by_an_answer_here_takes_the_row_from_the_event(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    waiting = asyncio.create_task(service.wait_for_answer(asked.id, timeout_s=30))
    await parked(service, answer_key(asked.id))
    reads: list[str] = []
    find = service.conversations.find_by_id
    monkeypatch.setattr(
        service.conversations, "find_by_id", lambda id: reads.append(id) or find(id)
    )
    answered = service.answer(asked.id, "8443", acting_agent_id="bob")

    assert await asyncio.wait_for(waiting, 1.0) == answered
    assert reads == []  # not read again after the wake-up


async def test_a_waiter_woken_by_another_servers_answer_reads_the_row(
    service: ConversationService,
) -> None:
    """Events from other servers carry ids, not rows (``db/pg_listen``)."""
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    waiting = asyncio.create_task(service.wait_for_answer(asked.id, timeout_s=30))
    await parked(service, answer_key(asked.id))
    with service.unit_of_work():  # the answer written elsewhere: only the row changes
        answered = service.conversations.answer(asked.id, "8443")
    service.changes.publish_committed([QuestionAnswered(asked.id, "alice", "bob")])

    assert await asyncio.wait_for(waiting, 1.0) == answered


async def test_wait_for_answer_times_out_with_the_pending_conversation(
    service: ConversationService, clock: FakeClock
) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    waiting = asyncio.create_task(service.wait_for_answer(asked.id, timeout_s=20))
    await parked(service, answer_key(asked.id))
    clock.advance(19.9)
    await turns()
    assert not waiting.done()
    clock.advance(0.1)
    still = await waiting
    assert still.status is ConversationStatus.PENDING


async def test_closing_the_change_stream_releases_waiters(service: ConversationService) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    waiting = asyncio.create_task(service.wait_for_answer(asked.id, timeout_s=600))
    listening = asyncio.create_task(service.listen("alice", timeout_s=600))
    await parked(service, answer_key(asked.id))
    await parked(service, question_key("alice"))
    service.changes.close()
    assert (await asyncio.wait_for(waiting, 1.0)).status is ConversationStatus.PENDING
    assert await asyncio.wait_for(listening, 1.0) == []


def test_only_the_addressed_agent_answers_and_only_once(service: ConversationService) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    with pytest.raises(ForbiddenError, match="addressed to agent 'bob'"):
        service.answer(asked.id, "guess", acting_agent_id="alice")
    service.answer(asked.id, "8443", acting_agent_id="bob")
    with pytest.raises(ConflictError, match="already answered"):
        service.answer(asked.id, "9000", acting_agent_id=None)
    assert service.get(asked.id).answer == "8443"


def test_asking_one_who_waits_for_you_is_refused_with_the_cycle(
    service: ConversationService,
) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    with pytest.raises(WaitCycleError) as refused:
        service.ask("bob", "which port do you mean?", AgentTarget("alice"))
    assert (
        f"bob-name (bob) -> alice-name (alice) (this question); alice-name (alice) -> "
        f"bob-name (bob) (conversation {asked.id})" in refused.value.message
    )
    assert service.pending("alice") == []  # nothing half-written
    service.answer(asked.id, "8443", acting_agent_id="bob")
    assert service.ask("bob", "thanks?", AgentTarget("alice")).to_agent_id == "alice"


def test_retried_ask_with_the_same_id_is_idempotent(service: ConversationService) -> None:
    first = service.ask("alice", "port?", AgentTarget("bob"), id="fixed-id")
    again = service.ask("alice", "port?", AgentTarget("bob"), id="fixed-id")
    assert again == first
    assert len(service.pending("bob")) == 1


def test_unknown_asker_is_not_found(service: ConversationService) -> None:
    with pytest.raises(NotFoundError, match="agent 'carol' not found"):
        service.ask("carol", "port?", AgentTarget("bob"))


async def test_question_stream_yields_pending_then_new_and_resumes(
    service: ConversationService,
) -> None:
    first = service.ask("alice", "one?", AgentTarget("bob"))
    stream = service.question_stream("bob")
    assert (await anext(stream)).id == first.id
    second_task = asyncio.create_task(anext(stream))
    await parked(service, question_key("bob"))
    second = service.ask("alice", "two?", AgentTarget("bob"))
    assert (await asyncio.wait_for(second_task, 1.0)).id == second.id
    await stream.aclose()
    resumed = service.question_stream("bob", last_event_id=first.id)
    assert (await anext(resumed)).id == second.id
    await resumed.aclose()


async def test_wait_for_answer_check_refuses_before_any_waiting(
    service: ConversationService,
) -> None:
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    seen: list[str] = []

    def refuse(conversation: object) -> None:
        seen.append(getattr(conversation, "id", ""))
        raise ForbiddenError("not yours")

    with pytest.raises(ForbiddenError):
        await asyncio.wait_for(service.wait_for_answer(asked.id, 600, check=refuse), 1.0)
    assert seen == [asked.id]
    assert service.changes.waiting(f"answer:{asked.id}") == 0


def test_the_askers_row_from_its_token_is_not_read_again(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = service.agents.get("alice")
    reads: list[str] = []
    find_by_id = service.agents.find_by_id

    def counted(id: str) -> object:
        reads.append(id)
        return find_by_id(id)

    monkeypatch.setattr(service.agents, "find_by_id", counted)
    asked = service.ask("alice", "port?", AgentTarget("bob"), asker=alice)
    assert asked.from_agent_id == "alice"
    assert "alice" not in reads
    # a row for another agent is not taken for the asker's
    with pytest.raises(NotFoundError, match="agent 'carol' not found"):
        service.ask("carol", "port?", AgentTarget("bob"), asker=alice)


async def test_listen_with_the_agents_own_row_skips_the_existence_read(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = service.agents.get("bob")
    asked = service.ask("alice", "port?", AgentTarget("bob"))
    with monkeypatch.context() as patch:
        patch.setattr(service.agents, "find_by_id", lambda id: pytest.fail(f"read {id}"))
        found = await service.listen("bob", timeout_s=0, agent=bob)
    assert [c.id for c in found] == [asked.id]
    # another agent's row does not stand in for a missing one
    with pytest.raises(NotFoundError, match="agent 'carol' not found"):
        await service.listen("carol", timeout_s=0, agent=bob)
