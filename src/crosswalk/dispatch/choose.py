"""Which tasks dispatch starts now, and what every other task waits for: pure rules.

The dispatcher reads a :class:`Plan` of one initiative (its tasks, their
dependencies, its phases' dependencies and statuses) and asks :func:`choose`
which tasks to start. No I/O here, so the rules are unit-tested with plain values.

- A task is *ready* when it is ``pending``, every task it depends on is
  ``completed``, and every phase its phase depends on is ``completed``.
- Ready tasks are taken highest priority first, then in planned ``order``, then
  oldest first.
- Agent tasks never exceed ``max_agents`` in progress at once for the initiative;
  checkpoint tasks go to a person and take no agent slot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crosswalk.domain.enums import CHECKPOINT_TASK_TYPES, PhaseStatus, TaskPriority, TaskStatus
from crosswalk.domain.rows import Task

_PRIORITY_RANK = {TaskPriority.HIGH: 0, TaskPriority.MEDIUM: 1, TaskPriority.LOW: 2}


def is_checkpoint(task: Task) -> bool:
    return task.type in CHECKPOINT_TASK_TYPES


@dataclass(frozen=True, slots=True)
class Plan:
    tasks: Sequence[Task]
    task_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    phase_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    phase_statuses: Mapping[str, PhaseStatus] = field(default_factory=dict)

    def by_id(self) -> dict[str, Task]:
        return {task.id: task for task in self.tasks}

    def unfinished_prerequisites(self, task: Task) -> list[Task]:
        tasks = self.by_id()
        found = (tasks.get(id) for id in self.task_dependencies.get(task.id, ()))
        return [t for t in found if t is not None and t.status is not TaskStatus.COMPLETED]

    def unfinished_phases(self, task: Task) -> list[str]:
        if task.phase_id is None:
            return []
        return [
            phase_id
            for phase_id in self.phase_dependencies.get(task.phase_id, ())
            if self.phase_statuses.get(phase_id) is not PhaseStatus.COMPLETED
        ]

    def agents_in_progress(self) -> int:
        return sum(
            1 for t in self.tasks if t.status is TaskStatus.IN_PROGRESS and not is_checkpoint(t)
        )

    def finished(self) -> bool:
        return all(task.status is TaskStatus.COMPLETED for task in self.tasks)


def planned_order(task: Task) -> tuple[int, int, object, str]:
    return (_PRIORITY_RANK.get(task.priority, 3), task.order, task.created_at, task.id)


def ready(plan: Plan) -> list[Task]:
    """Pending tasks whose task and phase prerequisites are completed, in the order
    dispatch takes them."""
    found = [
        task
        for task in plan.tasks
        if task.status is TaskStatus.PENDING
        and not plan.unfinished_prerequisites(task)
        and not plan.unfinished_phases(task)
    ]
    return sorted(found, key=planned_order)


def choose(plan: Plan, max_agents: int) -> list[Task]:
    """The tasks to start now: every ready checkpoint, and ready agent tasks up to
    ``max_agents`` agent tasks in progress, in dispatch order."""
    free = max(0, max_agents - plan.agents_in_progress())
    chosen = []
    for task in ready(plan):
        if is_checkpoint(task):
            chosen.append(task)
        elif free > 0:
            chosen.append(task)
            free -= 1
    return chosen


def waits_for_prerequisites(plan: Plan, task: Task) -> str | None:
    """Why a pending task is not ready, or None when it is."""
    tasks = plan.unfinished_prerequisites(task)
    if tasks:
        listed = ", ".join(f"'{t.name}' ({t.id}, {t.status.value})" for t in tasks)
        return f"task{'s' if len(tasks) > 1 else ''} {listed}"
    phases = plan.unfinished_phases(task)
    if phases:
        listed = ", ".join(
            f"{id} ({getattr(plan.phase_statuses.get(id), 'value', 'unknown')})" for id in phases
        )
        return f"phase{'s' if len(phases) > 1 else ''} {listed}"
    return None
