"""Target resolution for `conversation.ask`, case by case (docs/contract.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import Agent, Phase, Task
from crosswalk.services.targets import Target, resolve_target
from tests.unit.services.fakes import (
    FakeAgents,
    FakePhases,
    FakeTasks,
    make_agent,
    make_phase,
    make_task,
)


def world(
    *agents: Agent, tasks: Iterable[Task] = (), phases: Iterable[Phase] = ()
) -> dict[str, Any]:
    return {"agents": FakeAgents(*agents, tasks=FakeTasks(*tasks, phases=FakePhases(*phases)))}


ASKER = make_agent("asker")


def test_exactly_one_target_is_required() -> None:
    with pytest.raises(InvalidInputError, match="exactly one"):
        Target()
    with pytest.raises(InvalidInputError, match="exactly one"):
        Target(agent="a", task_id="t")


def test_agent_by_id_records_its_task_phase_and_initiative() -> None:
    target = make_agent("bob", task_id="t1")
    repos = world(ASKER, target, tasks=[make_task("t1", phase_id="p1", initiative_id="i1")])
    resolved = resolve_target(Target(agent="bob"), ASKER, **repos)
    assert resolved.agent.id == "bob"
    assert (resolved.task_id, resolved.phase_id, resolved.initiative_id) == ("t1", "p1", "i1")


def test_agent_by_name() -> None:
    repos = world(ASKER, make_agent("bob"))
    resolved = resolve_target(Target(agent="bob-name"), ASKER, **repos)
    assert resolved.agent.id == "bob"
    assert resolved.task_id is None


def test_unknown_agent_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        resolve_target(Target(agent="ghost"), ASKER, **world(ASKER))


@pytest.mark.parametrize("status", [AgentStatus.STOPPED, AgentStatus.CRASHED])
def test_stopped_or_crashed_agent_is_a_failed_precondition(status: AgentStatus) -> None:
    repos = world(ASKER, make_agent("bob", status=status))
    with pytest.raises(PreconditionFailedError, match=status.value):
        resolve_target(Target(agent="bob"), ASKER, **repos)


def test_asking_oneself_is_bad_request() -> None:
    with pytest.raises(InvalidInputError, match="cannot ask itself"):
        resolve_target(Target(agent="asker"), ASKER, **world(ASKER))


def test_task_picks_the_most_recently_updated_active_agent() -> None:
    older = make_agent("older", task_id="t1")
    newer = make_agent("newer", task_id="t1")
    stopped = make_agent("stopped", task_id="t1", status=AgentStatus.STOPPED)
    repos = world(ASKER, older, newer, stopped, tasks=[make_task("t1", phase_id="p1")])
    resolved = resolve_target(Target(task_id="t1"), ASKER, **repos)
    assert resolved.agent.id == "newer"
    assert (resolved.task_id, resolved.phase_id) == ("t1", "p1")


def test_task_with_nobody_active_is_not_found_with_the_spec_message() -> None:
    repos = world(
        ASKER,
        make_agent("gone", task_id="t1", status=AgentStatus.CRASHED),
        tasks=[make_task("t1", phase_id=None)],
    )
    with pytest.raises(NotFoundError, match="no active agent is working on task 't1'"):
        resolve_target(Target(task_id="t1"), ASKER, **repos)


def test_unknown_task_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="task 'nope' not found"):
        resolve_target(Target(task_id="nope"), ASKER, **world(ASKER))


def test_task_worked_only_by_the_asker_is_asking_oneself() -> None:
    me = make_agent("me", task_id="t1")
    repos = world(me, tasks=[make_task("t1", phase_id=None)])
    with pytest.raises(InvalidInputError, match="cannot ask itself"):
        resolve_target(Target(task_id="t1"), me, **repos)


def test_task_skips_the_asker_for_a_colleague() -> None:
    me = make_agent("me", task_id="t1")
    colleague = make_agent("colleague", task_id="t1")
    repos = world(me, colleague, tasks=[make_task("t1", phase_id=None)])
    assert resolve_target(Target(task_id="t1"), me, **repos).agent.id == "colleague"


def test_phase_with_one_other_active_agent_resolves_to_it() -> None:
    me = make_agent("me", task_id="t1")
    other = make_agent("other", task_id="t2")
    repos = world(
        me,
        other,
        tasks=[make_task("t1", phase_id="p1"), make_task("t2", phase_id="p1")],
        phases=[make_phase("p1", initiative_id="i9")],
    )
    resolved = resolve_target(Target(phase_id="p1"), me, **repos)
    assert resolved.agent.id == "other"
    assert (resolved.task_id, resolved.phase_id, resolved.initiative_id) == ("t2", "p1", "i9")


def test_phase_with_several_candidates_is_a_conflict_listing_each() -> None:
    a = make_agent("a", task_id="t1")
    b = make_agent("b", task_id="t2")
    repos = world(
        ASKER,
        a,
        b,
        tasks=[make_task("t1", phase_id="p1"), make_task("t2", phase_id="p1")],
        phases=[make_phase("p1")],
    )
    with pytest.raises(ConflictError) as raised:
        resolve_target(Target(phase_id="p1"), ASKER, **repos)
    message = raised.value.message
    for text in ("a-name (a) on task 't1'", "b-name (b) on task 't2'", "--agent", "--task"):
        assert text in message


def test_phase_with_nobody_is_not_found() -> None:
    repos = world(ASKER, phases=[make_phase("p1")])
    with pytest.raises(NotFoundError, match="phase 'p1'"):
        resolve_target(Target(phase_id="p1"), ASKER, **repos)


def test_unknown_phase_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="phase 'p404' not found"):
        resolve_target(Target(phase_id="p404"), ASKER, **world(ASKER))
