"""Port: tasks, their dependencies and their approval."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    NewTask,
    Paged,
    Removal,
    Task,
    TaskDependency,
    TaskUpdate,
)


class TaskRepository(Protocol):
    def create(self, data: NewTask) -> Task:
        """Insert; a task in a phase inherits the phase's initiative when none is given."""
        ...

    def find_by_id(self, id: str) -> Task | None: ...

    def find_by_ref(self, ref: str, limit: int) -> list[Task]:
        """At most ``limit`` tasks: the one whose id is ``ref``, then those named
        ``ref``, then those whose id starts with ``ref`` (``domain.refs`` picks)."""
        ...

    def get(self, id: str) -> Task: ...

    def find_all(self) -> list[Task]: ...

    def find_by_ids(self, ids: Collection[str]) -> list[Task]:
        """The tasks of ``ids`` that exist, in creation order (one read for a page's rows)."""
        ...

    def find_by_parent_task_id(self, parent_task_id: str) -> list[Task]: ...

    def find_by_phase_id(self, phase_id: str) -> list[Task]: ...

    def find_by_initiative_id(self, initiative_id: str) -> list[Task]: ...

    def find_pending_approval(self, initiative_id: str | None = None) -> list[Task]: ...

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        parent_task_id: str | None = None,
        status: TaskStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Task]: ...

    def update(self, id: str, changes: TaskUpdate) -> Task: ...

    def subtask_ids(self, id: str) -> list[str]:
        """Ids of the task's subtasks at any depth: what ``delete`` takes along."""
        ...

    def delete(self, id: str) -> Removal: ...

    def lock_dependency_graph(self, initiative_id: str | None) -> None:
        """Hold the initiative's dependency graph until the transaction ends, so two
        units of work cannot each add half of a cycle. Called by ``PlanningService``
        before it checks a new edge."""
        ...

    def find_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency | None: ...

    def prerequisite_ids(self, task_id: str) -> list[str]:
        """Ids of the tasks ``task_id`` waits for (empty for an unknown id)."""
        ...

    def create_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency:
        """Store the edge. An unknown task is ``NotFoundError`` naming it; an edge already
        stored is ``ConflictError``. The rules (no cycle, one initiative) are
        ``PlanningService``'s."""
        ...

    def remove_dependency(self, task_id: str, depends_on_task_id: str) -> None: ...

    def get_dependencies(self, task_id: str) -> list[Task]: ...

    def get_dependents(self, task_id: str) -> list[Task]: ...

    def prerequisite_ids_of(self, task_ids: Collection[str]) -> dict[str, list[str]]:
        """Each of ``task_ids`` with the ids of the tasks it waits for (sorted; empty
        for one that waits for none)."""
        ...

    def requires_approval_of(self, task_ids: Collection[str]) -> dict[str, bool]:
        """``requires_approval`` of each of ``task_ids`` that exists, in one read."""
        ...

    def requires_approval(self, task_id: str) -> bool:
        """The task's effective approval: its own flag, else its initiative's
        ``merge_requires_approval`` (False when it has neither)."""
        ...

    def transition(
        self, task_id: str, to: TaskStatus, *, expected: Sequence[TaskStatus] | None = None
    ) -> Task:
        """Move to ``to`` in one conditional statement, only from a status in
        ``expected`` (any when None); otherwise ``PreconditionFailedError``."""
        ...

    def claim(self, task_id: str, *, max_in_progress: int | None = None) -> Task | None:
        """``pending`` -> ``in_progress`` in one conditional statement, only while the
        initiative has fewer than ``max_in_progress`` agent tasks in progress; None
        when the task was no longer pending or the limit was reached."""
        ...

    def find_ready(
        self, *, initiative_id: str | None = None, phase_id: str | None = None
    ) -> list[Task]:
        """Pending tasks whose dependencies and phase dependencies are all completed,
        by priority (high first) then ``order`` then creation."""
        ...
