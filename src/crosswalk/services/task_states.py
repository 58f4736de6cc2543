"""The one writer of task and phase status.

Every change of a task's status goes through :class:`TaskStateService`: one
conditional UPDATE (so racing writers cannot both win), then the task's phase is
re-derived from its tasks, and the initiative's dispatcher is woken. The phase
rule is a pure function (:func:`derive_phase_status`).

Task states (docs/runner.md draws them)::

    pending -> in_progress -> pending_approval -> completed
                    |  \\______________________/^
                    v            (no approval needed)
                 blocked (merge conflict) -> completed (retry-merge)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crosswalk.db.repositories import PhaseRepository, TaskRepository
from crosswalk.domain.enums import PhaseStatus, TaskStatus
from crosswalk.domain.rows import Phase, Task
from crosswalk.services.notifier import Notifier, dispatch_key

#: A phase with a task in one of these is in progress.
_WORKING = (TaskStatus.IN_PROGRESS, TaskStatus.PENDING_APPROVAL)


def derive_phase_status(current: PhaseStatus, tasks: Sequence[TaskStatus]) -> PhaseStatus:
    """What a phase's status becomes given its tasks' statuses.

    Every task completed: ``completed``. Any task in progress (or done and awaiting
    the merge approval): ``in_progress``. A completed phase that gains unfinished
    work is ``in_progress`` again. Otherwise the status stays what a person set
    (``pending``, ``approved``, ``blocked``). A phase without tasks keeps its status.
    """
    if not tasks:
        return current
    if all(status is TaskStatus.COMPLETED for status in tasks):
        return PhaseStatus.COMPLETED
    if any(status in _WORKING for status in tasks) or current is PhaseStatus.COMPLETED:
        return PhaseStatus.IN_PROGRESS
    return current


@dataclass(slots=True)
class TaskStateService:
    tasks: TaskRepository
    phases: PhaseRepository
    notifier: Notifier

    def move(
        self, task_id: str, to: TaskStatus, *, expected: Sequence[TaskStatus] | None = None
    ) -> Task:
        """``task_id`` -> ``to``, only from ``expected`` (any when None)."""
        task = self.tasks.transition(task_id, to, expected=expected)
        self.settle(task)
        return task

    def claim(self, task_id: str, *, max_in_progress: int | None = None) -> Task | None:
        """``pending`` -> ``in_progress`` for dispatch (see ``TaskRepository.claim``)."""
        task = self.tasks.claim(task_id, max_in_progress=max_in_progress)
        if task is not None:
            self.settle(task)
        return task

    def settle(self, task: Task) -> None:
        """After any change to ``task`` (created, moved, deleted): its phase follows
        and the dispatcher looks again."""
        if task.phase_id is not None:
            self.derive_phase(task.phase_id)
        if task.initiative_id is not None:
            self.notifier.publish(dispatch_key())

    def derive_phase(self, phase_id: str) -> Phase | None:
        phase = self.phases.find_by_id(phase_id)
        if phase is None:
            return None
        statuses = [task.status for task in self.tasks.find_by_phase_id(phase_id)]
        status = derive_phase_status(phase.status, statuses)
        if status is phase.status:
            return phase
        return self.phases.update(phase_id, {"status": status})
