"""The person asks an agent (``cw ask --agent`` with the admin token): a conversation
with no asking agent, and the wait-cycle rule with the person as a node, so the person
never waits in a cycle."""

from __future__ import annotations

import pytest

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import InvalidInputError, WaitCycleError
from crosswalk.domain.events import QuestionAsked
from crosswalk.domain.wait_graph import PERSON, WaitEdge, describe_wait_cycle
from crosswalk.services.agents import AgentService
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.conversations import ConversationService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.limits import Limits
from crosswalk.services.targets import AgentTarget
from tests.unit.services.fakes import (
    FakeAgents,
    FakeConversations,
    FakeMessages,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)


class World:
    def __init__(self) -> None:
        self.stream = ChangeStream()
        units = FakeUnitsOfWork(self.stream)
        self.messages = FakeMessages()
        self.conversations = FakeConversations(self.messages)
        self.agents = FakeAgents(make_agent("alice"), make_agent("bob"), tasks=FakeTasks())
        self.talk = ConversationService(
            conversations=self.conversations,
            agents=self.agents,
            unit_of_work=units,
            changes=self.stream,
            limits=Limits(max_pending_questions=1),
        )
        self.human = HumanQuestionService(
            messages=self.messages,
            agents=AgentService(
                agents=self.agents,
                tasks=FakeTasks(),
                messages=self.messages,
                conversations=self.conversations,
                unit_of_work=units,
            ),
            unit_of_work=units,
            changes=self.stream,
        )


@pytest.fixture
def world() -> World:
    return World()


def test_the_person_asks_an_agent_with_no_asking_agent(world: World) -> None:
    asked = world.talk.ask(None, "what did you change?", AgentTarget(agent="bob"))
    assert (asked.from_agent_id, asked.to_agent_id) == (None, "bob")
    assert asked.status is ConversationStatus.PENDING
    again = world.talk.ask(None, "and why?", AgentTarget(agent="bob"))  # no per-asker cap
    assert again.from_agent_id is None
    answered = world.talk.answer(asked.id, "the schema", acting_agent_id="bob")
    assert answered.answer == "the schema"


def test_the_person_has_no_hooks_to_deliver_an_answer_to(world: World) -> None:
    world.talk.answer_deliveries = object()  # type: ignore[assignment]  # a server that has them
    with pytest.raises(InvalidInputError, match="cw wait"):
        world.talk.ask(None, "q", AgentTarget(agent="bob"), deliver_answer=True)


@pytest.mark.anyio
async def test_the_question_is_told_like_any_other(world: World) -> None:
    async with world.stream.follow(lambda e: isinstance(e, QuestionAsked)) as follower:
        asked = world.talk.ask(None, "q", AgentTarget(agent="bob"))
        event = await anext(aiter(follower))
    assert event == QuestionAsked(asked.id, None, "bob")


def test_the_person_may_not_ask_an_agent_that_waits_for_the_person(world: World) -> None:
    waiting = world.human.ask("bob", "Postgres or SQLite?")
    with pytest.raises(WaitCycleError) as refused:
        world.talk.ask(None, "what did you change?", AgentTarget(agent="bob"))
    message = str(refused.value)
    assert "the person -> bob-name (bob) (this question)" in message
    assert f"reply to message {waiting.id}" in message
    assert "cw reply" in message


def test_nor_one_that_waits_for_the_person_through_another_agent(world: World) -> None:
    world.talk.ask("alice", "port?", AgentTarget(agent="bob"))
    world.human.ask("bob", "Postgres or SQLite?")
    with pytest.raises(WaitCycleError):
        world.talk.ask(None, "q", AgentTarget(agent="alice"))


def test_an_agent_may_not_ask_the_person_who_waits_for_it(world: World) -> None:
    asked = world.talk.ask(None, "what did you change?", AgentTarget(agent="bob"))
    with pytest.raises(WaitCycleError) as refused:
        world.human.ask("bob", "Postgres or SQLite?")
    assert f"answer conversation {asked.id} from the person first" in str(refused.value)
    assert world.messages.rows == {}  # nothing half-written
    world.human.ask("alice", "Postgres or SQLite?")  # alice is not waited for: fine


def test_an_agent_may_not_close_a_cycle_through_the_person(world: World) -> None:
    """alice asks bob, who waits for the person, who waits for alice."""
    world.talk.ask(None, "what did you change?", AgentTarget(agent="alice"))
    world.human.ask("bob", "Postgres or SQLite?")
    with pytest.raises(WaitCycleError) as refused:
        world.talk.ask("alice", "port?", AgentTarget(agent="bob"))
    assert "ask the person instead" not in str(refused.value)


def test_a_cycle_through_the_person_is_described_with_both_kinds_of_wait() -> None:
    cycle = [
        WaitEdge("alice", "bob"),
        WaitEdge("bob", PERSON, "m1"),
        WaitEdge(PERSON, "alice", "c1"),
    ]
    text = describe_wait_cycle(cycle, {"alice": "alice", "bob": "bob"})
    assert "bob (bob) -> the person (message m1)" in text
    assert "the person -> alice (alice) (conversation c1)" in text
    assert text.endswith("answer conversation c1 from the person first (cw answer c1 TEXT).")
