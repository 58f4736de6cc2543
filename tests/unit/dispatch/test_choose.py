"""Which tasks dispatch starts, and what the others wait for: the pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from crosswalk.dispatch.choose import Plan, choose, ready, waits_for_prerequisites
from crosswalk.domain.enums import PhaseStatus, TaskCategory, TaskPriority, TaskStatus, TaskType
from crosswalk.domain.rows import Task

T0 = datetime(2026, 1, 1, tzinfo=UTC)
P, IP, C = TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED


def task(
    id: str,
    status: TaskStatus = P,
    *,
    priority: TaskPriority = TaskPriority.MEDIUM,
    order: int = 0,
    phase: str | None = None,
    type: TaskType = TaskType.AUTO,
    age: int = 0,
) -> Task:
    return Task(
        id=id, phase_id=phase, initiative_id="i", parent_task_id=None, name=id,
        description=None, type=type, category=TaskCategory.EXECUTE, priority=priority,
        status=status, requires_approval=None, order=order,
        created_at=T0 + timedelta(seconds=age), updated_at=T0,
    )  # fmt: skip


def ids(tasks: list[Task]) -> list[str]:
    return [t.id for t in tasks]


def test_a_task_is_ready_only_when_every_prerequisite_is_completed() -> None:
    # a diamond: a -> (b, c) -> d
    plan = Plan(
        tasks=[task("a", C), task("b", C), task("c", IP), task("d")],
        task_dependencies={"b": ["a"], "c": ["a"], "d": ["b", "c"]},
    )
    assert ready(plan) == []
    assert waits_for_prerequisites(plan, plan.tasks[3]) == "task 'c' (c, in_progress)"
    done = replace(plan, tasks=[*plan.tasks[:2], task("c", C), task("d")])
    assert ids(ready(done)) == ["d"]


def test_a_task_waits_for_the_phases_its_phase_depends_on() -> None:
    plan = Plan(
        tasks=[task("build"), task("ship", phase="p2")],
        phase_dependencies={"p2": ["p1"]},
        phase_statuses={"p1": PhaseStatus.IN_PROGRESS, "p2": PhaseStatus.PENDING},
    )
    assert ids(ready(plan)) == ["build"]
    assert waits_for_prerequisites(plan, plan.tasks[1]) == "phase p1 (in_progress)"
    finished = replace(plan, phase_statuses={"p1": PhaseStatus.COMPLETED})
    assert ids(ready(finished)) == ["build", "ship"]


def test_highest_priority_first_then_order_then_age() -> None:
    plan = Plan(
        tasks=[
            task("low", priority=TaskPriority.LOW),
            task("medium-late", order=2),
            task("medium-old", order=1, age=0),
            task("medium-new", order=1, age=5),
            task("high", priority=TaskPriority.HIGH, order=9),
        ]
    )
    assert ids(ready(plan)) == ["high", "medium-old", "medium-new", "medium-late", "low"]
    assert ids(choose(plan, max_agents=2)) == ["high", "medium-old"]


def test_never_more_agent_tasks_in_progress_than_the_limit() -> None:
    plan = Plan(tasks=[task("running", IP), task("a"), task("b"), task("c")])
    assert ids(choose(plan, max_agents=2)) == ["a"]
    assert choose(replace(plan, tasks=[task("r1", IP), task("r2", IP), task("a")]), 2) == []
    assert ids(choose(plan, max_agents=5)) == ["a", "b", "c"]


def test_checkpoints_go_to_the_person_and_take_no_agent_slot() -> None:
    verify = task("verify", type=TaskType.HUMAN_VERIFY, priority=TaskPriority.LOW)
    waiting = task("decide", IP, type=TaskType.DECISION)  # in progress, with the person
    plan = Plan(tasks=[task("r1", IP), task("r2", IP), verify, waiting, task("a")])
    assert ids(choose(plan, max_agents=2)) == ["verify"]
    assert plan.agents_in_progress() == 2


def test_a_plan_is_finished_when_every_task_is_completed() -> None:
    assert Plan(tasks=[task("a", C), task("b", C)]).finished()
    assert not Plan(tasks=[task("a", C), task("b", TaskStatus.PENDING_APPROVAL)]).finished()
