"""The rules that guard writes, checked in the service's unit of work over a real
SQLite file: dependency graphs (``PlanningService``: one initiative, no cycles, a
retried add returns the stored edge), the wait-for graph and who may answer
(``ConversationService``, ``HumanQuestionService.send``) and the replay rule of
client-chosen ids (``ConversationService.ask``, ``HumanQuestionService.send``/``ask``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from sqlalchemy import Connection, Engine, Table, func, select

from crosswalk.db.schema import conversations, messages, phase_dependencies, task_dependencies
from crosswalk.domain.enums import (
    AgentStatus,
    ConversationStatus,
    MessageType,
    ParticipantType,
    TaskStatus,
)
from crosswalk.domain.errors import (
    ConflictError,
    DependencyCycleError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
    WaitCycleError,
)
from crosswalk.domain.events import Action, EntityChanged, Event
from crosswalk.domain.rows import (
    Agent,
    Initiative,
    Message,
    NewAgent,
    NewInitiative,
    NewMessage,
    NewPhase,
    NewTask,
    Phase,
    Task,
)
from crosswalk.domain.wait_graph import PERSON, WaitEdge
from crosswalk.server.app import build_services
from crosswalk.server.context import Services
from crosswalk.services.targets import AgentTarget

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER


class Recorder:
    """A publisher that keeps every committed event, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish_in_transaction(self, connection: Connection, events: Sequence[Event]) -> None:
        pass

    def publish_committed(self, events: Sequence[Event]) -> None:
        self.events.extend(events)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def services(engine: Engine, recorder: Recorder) -> Services:
    return build_services(engine, "admin-token", publishers=[recorder])


@pytest.fixture
def published(recorder: Recorder) -> list[Event]:
    return recorder.events


@pytest.fixture
def initiative(services: Services) -> Initiative:
    return services.planning.create_initiative(NewInitiative("auth"))


@pytest.fixture
def other_initiative(services: Services) -> Initiative:
    return services.planning.create_initiative(NewInitiative("billing"))


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def tasks(services: Services, initiative: Initiative, *names: str) -> list[Task]:
    return [
        services.planning.create_task(NewTask(name, initiative_id=initiative.id)) for name in names
    ]


def phases(services: Services, initiative: Initiative, *names: str) -> list[Phase]:
    return [services.planning.create_phase(NewPhase(initiative.id, name)) for name in names]


# --- task dependencies --------------------------------------------------------------


def test_a_task_cannot_depend_on_itself(services: Services, initiative: Initiative) -> None:
    (task,) = tasks(services, initiative, "code")

    with pytest.raises(
        DependencyCycleError, match=f"^task 'code' \\({task.id}\\) cannot depend on itself$"
    ):
        services.planning.add_task_dependency(task.id, task.id)


def test_a_task_dependency_closing_a_cycle_is_refused_with_the_path(
    services: Services, initiative: Initiative, engine: Engine
) -> None:
    a, b, c, d = tasks(services, initiative, "a", "b", "c", "d")
    services.planning.add_task_dependency(a.id, b.id)
    services.planning.add_task_dependency(b.id, c.id)
    services.planning.add_task_dependency(c.id, d.id)

    with pytest.raises(DependencyCycleError) as raised:
        services.planning.add_task_dependency(d.id, b.id)

    assert raised.value.message == (
        f"task 'd' ({d.id}) cannot depend on task 'b' ({b.id}): "
        "that would close the cycle 'd' -> 'b' -> 'c' -> 'd'"
    )
    assert count(engine, task_dependencies) == 3


def test_a_task_dependency_across_initiatives_is_invalid(
    services: Services, initiative: Initiative, other_initiative: Initiative, engine: Engine
) -> None:
    (mine,) = tasks(services, initiative, "mine")
    (theirs,) = tasks(services, other_initiative, "theirs")

    with pytest.raises(InvalidInputError, match="cannot depend on task") as raised:
        services.planning.add_task_dependency(mine.id, theirs.id)
    assert raised.value.field == "depends_on_task_id"
    assert count(engine, task_dependencies) == 0


def test_adding_an_existing_task_dependency_again_returns_it_and_tells_no_one(
    services: Services, initiative: Initiative, engine: Engine, published: list[Event]
) -> None:
    build, ship = tasks(services, initiative, "build", "ship")
    first = services.planning.add_task_dependency(ship.id, build.id)
    assert published[-1] == EntityChanged("taskDependency", first.id, Action.CREATED)
    published.clear()

    assert services.planning.add_task_dependency(ship.id, build.id) == first
    assert count(engine, task_dependencies) == 1
    assert published == []


def test_task_dependencies_on_unknown_tasks_name_the_missing_one(
    services: Services, initiative: Initiative
) -> None:
    (task,) = tasks(services, initiative, "code")

    for dependent, prerequisite in ((task.id, "ghost"), ("ghost", task.id)):
        with pytest.raises(NotFoundError, match=r"^task 'ghost' not found$"):
            services.planning.add_task_dependency(dependent, prerequisite)


def test_the_graph_lock_is_taken_before_the_cycle_check(
    services: Services, initiative: Initiative, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a PostgreSQL adapter serialises additions: the initiative's lock comes
    first, then the walk of the graph, in the unit of work of the insert."""
    build, ship = tasks(services, initiative, "build", "ship")
    design, review = phases(services, initiative, "design", "review")
    calls: list[str] = []
    for kind, repo in (("task", services.repos.tasks), ("phase", services.repos.phases)):
        walk = repo.prerequisite_ids

        def lock(initiative_id: str | None, kind: str = kind) -> None:
            calls.append(f"lock {kind} {initiative_id}")

        def prerequisites(
            node: str, kind: str = kind, walk: Callable[[str], list[str]] = walk
        ) -> list[str]:
            calls.append(f"walk {kind}")
            return walk(node)

        monkeypatch.setattr(repo, "lock_dependency_graph", lock)
        monkeypatch.setattr(repo, "prerequisite_ids", prerequisites)

    services.planning.add_task_dependency(ship.id, build.id)
    services.planning.add_phase_dependency(review.id, design.id)

    assert calls[:2] == [f"lock task {initiative.id}", "walk task"]
    assert calls[calls.index("walk task") + 1 :][:2] == [
        f"lock phase {initiative.id}",
        "walk phase",
    ]


# --- phase dependencies -------------------------------------------------------------


def test_a_phase_cannot_depend_on_itself(services: Services, initiative: Initiative) -> None:
    (phase,) = phases(services, initiative, "build")

    with pytest.raises(
        DependencyCycleError, match=f"^phase 'build' \\({phase.id}\\) cannot depend on itself$"
    ):
        services.planning.add_phase_dependency(phase.id, phase.id)


def test_a_phase_dependency_closing_a_cycle_is_refused_with_the_path(
    services: Services, initiative: Initiative, engine: Engine
) -> None:
    a, b, c = phases(services, initiative, "a", "b", "c")
    services.planning.add_phase_dependency(a.id, b.id)
    services.planning.add_phase_dependency(b.id, c.id)

    with pytest.raises(DependencyCycleError) as raised:
        services.planning.add_phase_dependency(c.id, a.id)

    assert raised.value.message == (
        f"phase 'c' ({c.id}) cannot depend on phase 'a' ({a.id}): "
        "that would close the cycle 'c' -> 'a' -> 'b' -> 'c'"
    )
    assert count(engine, phase_dependencies) == 2
    assert services.repos.phases.get_dependencies(c.id) == []


def test_a_diamond_of_phases_is_not_a_cycle(services: Services, initiative: Initiative) -> None:
    top, left, right, bottom = phases(services, initiative, "top", "left", "right", "bottom")
    for phase, prerequisite in [(left, top), (right, top), (bottom, left), (bottom, right)]:
        services.planning.add_phase_dependency(phase.id, prerequisite.id)

    assert len(services.repos.phases.get_dependencies(bottom.id)) == 2


def test_a_phase_dependency_across_initiatives_is_invalid(
    services: Services, initiative: Initiative, other_initiative: Initiative
) -> None:
    (mine,) = phases(services, initiative, "mine")
    (theirs,) = phases(services, other_initiative, "theirs")

    with pytest.raises(InvalidInputError, match="another initiative") as raised:
        services.planning.add_phase_dependency(mine.id, theirs.id)
    assert not isinstance(raised.value, DependencyCycleError)


def test_adding_an_existing_phase_dependency_again_returns_it(
    services: Services, initiative: Initiative, engine: Engine
) -> None:
    build, ship = phases(services, initiative, "build", "ship")
    first = services.planning.add_phase_dependency(ship.id, build.id)

    assert services.planning.add_phase_dependency(ship.id, build.id) == first
    assert count(engine, phase_dependencies) == 1


def test_phase_dependencies_on_unknown_phases_name_the_missing_one(
    services: Services, initiative: Initiative
) -> None:
    (phase,) = phases(services, initiative, "build")

    for dependent, prerequisite in ((phase.id, "ghost"), ("ghost", phase.id)):
        with pytest.raises(NotFoundError, match=r"^phase 'ghost' not found$"):
            services.planning.add_phase_dependency(dependent, prerequisite)


def test_removing_an_edge_lets_the_reverse_edge_in(
    services: Services, initiative: Initiative
) -> None:
    build, ship = phases(services, initiative, "build", "ship")
    services.planning.add_phase_dependency(ship.id, build.id)
    with pytest.raises(DependencyCycleError):
        services.planning.add_phase_dependency(build.id, ship.id)

    services.planning.remove_phase_dependency(ship.id, build.id)

    assert services.planning.add_phase_dependency(build.id, ship.id).phase_id == build.id


@pytest.fixture
def asker(services: Services) -> Agent:
    return services.agents.register(NewAgent("/a", name="asker"))[0]


@pytest.fixture
def answerer(services: Services) -> Agent:
    return services.agents.register(NewAgent("/b", name="answerer"))[0]


# --- the wait-for graph and who answers ----------------------------------------------


def test_a_question_that_closes_a_wait_cycle_is_refused_and_nothing_is_written(
    services: Services, asker: Agent, answerer: Agent, engine: Engine, published: list[Event]
) -> None:
    third = services.agents.register(NewAgent("/c", name="third"))[0]
    ask = services.conversations.ask
    first = ask(asker.id, "?", AgentTarget(answerer.id))  # asker waits for answerer
    second = ask(answerer.id, "?", AgentTarget(third.id))  # answerer waits for third
    published.clear()

    with pytest.raises(WaitCycleError) as refused:
        ask(third.id, "?", AgentTarget(asker.id))  # third would wait for asker

    message = refused.value.message
    assert f"third ({third.id}) -> asker ({asker.id}) (this question)" in message
    assert f"asker ({asker.id}) -> answerer ({answerer.id}) (conversation {first.id})" in message
    assert f"(conversation {second.id})" in message
    assert count(engine, conversations) == 2
    assert published == []
    # Once the chain is broken (answered), the same question goes through.
    services.conversations.answer(second.id, "done")
    assert ask(third.id, "?", AgentTarget(asker.id)).status is ConversationStatus.PENDING


def test_the_wait_graph_lock_is_taken_before_the_walk(
    services: Services, asker: Agent, answerer: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where a PostgreSQL adapter serialises asks: the lock first, then the walk, then
    the insert, in one unit of work; an agent's question to the person likewise."""
    repo = services.repos.conversations
    calls: list[str] = []
    walk, create = repo.waits_of, repo.create

    def waits_of(node: str) -> list[WaitEdge]:
        calls.append(f"walk {'person' if node == PERSON else node}")
        return walk(node)

    monkeypatch.setattr(repo, "lock_wait_graph", lambda: calls.append("lock"))
    monkeypatch.setattr(repo, "waits_of", waits_of)
    monkeypatch.setattr(repo, "create", lambda data: calls.append("insert") or create(data))

    services.conversations.ask(asker.id, "?", AgentTarget(answerer.id))
    assert calls == ["lock", f"walk {answerer.id}", "insert"]
    calls.clear()
    services.human_questions.ask(answerer.id, "Deploy?")
    assert calls == ["lock", "walk person"]


def test_an_agents_question_to_the_person_who_waits_for_it_is_refused(
    services: Services, asker: Agent, engine: Engine
) -> None:
    asked = services.conversations.ask(None, "what changed?", AgentTarget(asker.id))

    with pytest.raises(WaitCycleError, match=f"conversation {asked.id}"):
        services.human_questions.ask(asker.id, "Deploy?")

    assert count(engine, messages) == 0


def test_only_the_addressee_answers_and_a_refused_answer_changes_nothing(
    services: Services, asker: Agent, answerer: Agent, published: list[Event]
) -> None:
    conversation = services.conversations.ask(asker.id, "?", AgentTarget(answerer.id))
    answer = services.conversations.answer
    published.clear()

    with pytest.raises(
        ForbiddenError,
        match=f"^conversation '{conversation.id}' is addressed to agent '{answerer.id}', "
        f"not to '{asker.id}'$",
    ):
        answer(conversation.id, "not mine", acting_agent_id=asker.id)
    assert services.conversations.get(conversation.id) == conversation
    assert published == []

    answered = answer(conversation.id, "mine", acting_agent_id=answerer.id)
    assert (answered.status, answered.answer) == (ConversationStatus.ANSWERED, "mine")
    with pytest.raises(ForbiddenError):  # who may not answer hears that first
        answer(conversation.id, "again", acting_agent_id=asker.id)
    with pytest.raises(ConflictError, match=f"^conversation '{conversation.id}' is already"):
        answer(conversation.id, "again")  # nobody named: the administrator
    with pytest.raises(NotFoundError, match=r"^conversation 'nope' not found$"):
        answer("nope", "x")
    assert services.conversations.get(conversation.id) == answered


def test_an_abandoned_question_cannot_be_answered(
    services: Services, asker: Agent, answerer: Agent
) -> None:
    conversation = services.conversations.ask(asker.id, "?", AgentTarget(answerer.id))
    services.agents.update(answerer.id, {"status": AgentStatus.CRASHED})

    with pytest.raises(ConflictError, match=r"was abandoned .*nobody waits for its answer"):
        services.conversations.answer(conversation.id, "late", acting_agent_id=answerer.id)


# --- crosswalk asks the person about a task ------------------------------------------


def test_a_task_moves_and_the_person_is_asked_in_one_unit_of_work(
    services: Services, initiative: Initiative, monkeypatch: pytest.MonkeyPatch
) -> None:
    (task,) = tasks(services, initiative, "deploy")
    services.planning.move_task(task.id, TaskStatus.IN_PROGRESS)

    def refuse(data: NewMessage) -> Message:
        raise ConflictError("the inbox is full")

    with monkeypatch.context() as patched:
        patched.setattr(services.repos.messages, "create", refuse)
        with pytest.raises(ConflictError, match="the inbox is full"):
            services.planning.move_and_ask(
                task.id, TaskStatus.BLOCKED, "Merge failed?", expected=[TaskStatus.IN_PROGRESS]
            )
    assert services.repos.tasks.get(task.id).status is TaskStatus.IN_PROGRESS  # rolled back

    blocked, question = services.planning.move_and_ask(
        task.id, TaskStatus.BLOCKED, "Merge failed?", expected=[TaskStatus.IN_PROGRESS]
    )
    assert blocked.status is TaskStatus.BLOCKED
    assert (question.task_id, question.content, question.sender_type) == (
        task.id,
        "Merge failed?",
        USER,
    )
    with pytest.raises(PreconditionFailedError):  # no longer in progress: nobody is asked
        services.planning.move_and_ask(
            task.id, TaskStatus.BLOCKED, "again?", expected=[TaskStatus.IN_PROGRESS]
        )
    assert [m.id for m in services.repos.messages.find_requiring_response(task_id=task.id)] == [
        question.id
    ]


# --- the replay rule of client-chosen ids ----------------------------------------


def test_a_retried_ask_returns_the_stored_conversation_and_tells_no_one(
    services: Services, asker: Agent, answerer: Agent, engine: Engine, published: list[Event]
) -> None:
    ask = services.conversations.ask
    first = ask(asker.id, "Which port?", AgentTarget(answerer.id), id="client-chosen-id-0001")
    published.clear()

    again = ask(asker.id, "Which port?", AgentTarget(answerer.id), id=first.id)

    assert again == first
    assert count(engine, conversations) == 1
    assert published == []


def test_a_retry_is_replayed_even_when_its_target_could_no_longer_be_asked(
    services: Services, asker: Agent, answerer: Agent, engine: Engine, published: list[Event]
) -> None:
    ask = services.conversations.ask
    first = ask(asker.id, "Which port?", AgentTarget(answerer.id), id="client-chosen-id-0002")
    services.agents.update(answerer.id, {"status": AgentStatus.STOPPED})
    with pytest.raises(PreconditionFailedError, match="stopped and cannot answer"):
        ask(asker.id, "Which port?", AgentTarget(answerer.id))  # a new ask is refused
    published.clear()

    again = ask(asker.id, "Which port?", AgentTarget(answerer.id), id=first.id)

    assert again == services.conversations.get(first.id)
    assert count(engine, conversations) == 1
    assert published == []


def test_a_new_ask_that_fails_with_an_id_fails_as_it_would_without(
    services: Services, asker: Agent
) -> None:
    with pytest.raises(NotFoundError, match="agent 'nobody' not found"):
        services.conversations.ask(
            asker.id, "Which port?", AgentTarget("nobody"), id="client-chosen-id-0003"
        )
    assert services.repos.conversations.find_by_id("client-chosen-id-0003") is None


def test_reusing_a_conversation_id_for_another_question_or_asker_is_a_conflict(
    services: Services, asker: Agent, answerer: Agent
) -> None:
    ask = services.conversations.ask
    first = ask(asker.id, "Which port?", AgentTarget(answerer.id), id="client-chosen-id-0001")

    with pytest.raises(ConflictError, match="client-chosen-id-0001"):
        ask(asker.id, "Another question?", AgentTarget(answerer.id), id=first.id)
    with pytest.raises(ConflictError, match="client-chosen-id-0001"):
        ask(answerer.id, first.question, AgentTarget(asker.id), id=first.id)
    assert services.conversations.get(first.id) == first


def test_a_retried_send_returns_the_stored_message(
    services: Services, asker: Agent, engine: Engine, published: list[Event]
) -> None:
    send = services.human_questions.send
    first = send(NewMessage(AGENT, USER, "may I?", sender_id=asker.id, id="client-made-id-01"))
    published.clear()

    again = send(NewMessage(AGENT, USER, "may I?", sender_id=asker.id, id="client-made-id-01"))

    assert again == first
    assert count(engine, messages) == 1
    assert published == []
    with pytest.raises(ConflictError, match="already exists with other content"):
        send(NewMessage(AGENT, USER, "something else", sender_id=asker.id, id=first.id))


def test_a_retried_question_to_the_person_is_asked_once(
    services: Services, asker: Agent, engine: Engine
) -> None:
    first = services.human_questions.ask(asker.id, "Deploy?", id="client-made-id-02")
    again = services.human_questions.ask(asker.id, "Deploy?", id=first.id)

    assert again == first
    assert count(engine, messages) == 1
    pending = services.repos.agents.get(asker.id).pending_questions
    assert [q["messageId"] for q in pending or []] == [first.id]
    assert first.type is MessageType.QUESTION
