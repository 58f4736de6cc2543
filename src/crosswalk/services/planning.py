"""Planning: initiatives, phases, tasks and their dependencies, approval.

Every write runs in a unit of work and records ``EntityChanged``; a task or phase whose
status moves also records ``TaskStatusChanged`` / ``PhaseStatusChanged``, here and only
here (the one writer of those status fields). A task's status moves in one conditional
statement (``move_task``, ``claim_task``), and its phase's status follows its tasks
(:func:`derive_phase_status`) in the same unit of work, as does its initiative's once
every task is completed (:func:`derive_initiative_status`) and the closing of the
questions crosswalk asked the person about the task (``close_own_questions``: their
cause has moved on). Approval gates the merge of
finished work (``crosswalk.dispatch.landing``), not the start. The rules of the
dependency graphs are decided here, in the unit of work of the write they guard: a
dependency joins two tasks (or phases) of one initiative, never closes a cycle, and a
retried add returns the edge already stored. Before checking a new edge the service
takes the initiative's graph lock (``lock_dependency_graph``), so that two concurrent
additions cannot each close half of a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from crosswalk.db.repositories import InitiativeRepository, PhaseRepository, TaskRepository
from crosswalk.domain.dependency_graph import format_path, would_create_cycle
from crosswalk.domain.enums import InitiativeStatus, PhaseStatus, TaskStatus
from crosswalk.domain.errors import (
    DependencyCycleError,
    InvalidInputError,
    PreconditionFailedError,
)
from crosswalk.domain.events import Action, EntityChanged, PhaseStatusChanged, TaskStatusChanged
from crosswalk.domain.git_names import check_branch
from crosswalk.domain.refs import MAX_CANDIDATES, Named, describe, pick_by_ref
from crosswalk.domain.rows import (
    Initiative,
    InitiativeUpdate,
    Message,
    NewInitiative,
    NewPhase,
    NewTask,
    Phase,
    PhaseDependency,
    PhaseUpdate,
    Removal,
    Task,
    TaskDependency,
    TaskUpdate,
)
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

#: Rows a reference is looked up among: one more than an ambiguity error lists.
_CANDIDATES = MAX_CANDIDATES + 1


@dataclass(slots=True)
class PlanningService:
    initiatives: InitiativeRepository
    phases: PhaseRepository
    tasks: TaskRepository
    unit_of_work: UnitOfWorkFactory
    #: Closes crosswalk's own questions about a task once it moves (None: nobody asks).
    human_questions: HumanQuestionService | None = None

    # --- reads with a rule ---------------------------------------------------------

    def require_scope(self, initiative_id: str | None, phase_id: str | None = None) -> None:
        """A filter naming an unknown initiative or phase is NOT_FOUND, not an empty
        answer: "nothing is ready" must not hide a mistyped id."""
        if initiative_id is not None:
            self.initiatives.get(initiative_id)
        if phase_id is not None:
            self.phases.get(phase_id)

    def resolve_initiative(self, ref: str) -> Initiative:
        """The initiative ``ref`` names: its id, its name, or the start of its id
        (``domain.refs``: ambiguous is an error listing the candidates)."""
        return pick_by_ref("initiative", ref, self.initiatives.find_by_ref(ref, _CANDIDATES))

    def resolve_phase(self, ref: str) -> Phase:
        """The phase ``ref`` names, as :meth:`resolve_initiative`."""
        return pick_by_ref("phase", ref, self.phases.find_by_ref(ref, _CANDIDATES))

    def resolve_task(self, ref: str) -> Task:
        """The task ``ref`` names, as :meth:`resolve_initiative`."""
        return pick_by_ref("task", ref, self.tasks.find_by_ref(ref, _CANDIDATES))

    def ready_tasks(self, initiative_id: str | None, phase_id: str | None) -> list[Task]:
        self.require_scope(initiative_id, phase_id)
        return self.tasks.find_ready(initiative_id=initiative_id, phase_id=phase_id)

    def tasks_pending_approval(self, initiative_id: str | None) -> list[Task]:
        self.require_scope(initiative_id)
        return self.tasks.find_pending_approval(initiative_id)

    # --- initiatives ---------------------------------------------------------------

    def create_initiative(self, data: NewInitiative) -> Initiative:
        check_branch(data.branch, "branch")
        with self.unit_of_work() as uow:
            initiative = self.initiatives.create(data)
            uow.record(EntityChanged("initiative", initiative.id, Action.CREATED))
        return initiative

    def update_initiative(self, id: str, changes: InitiativeUpdate) -> Initiative:
        check_branch(changes.get("branch"), "branch")
        with self.unit_of_work() as uow:
            initiative = self.initiatives.update(id, changes)
            uow.record(EntityChanged("initiative", id, Action.UPDATED))
        return initiative

    def delete_initiative(self, id: str) -> tuple[Initiative, Removal]:
        with self.unit_of_work() as uow:
            initiative = self.initiatives.get(id)
            removed = self.initiatives.delete(id)
            uow.record(EntityChanged("initiative", id, Action.DELETED))
        return initiative, removed

    # --- phases ----------------------------------------------------------------------

    def create_phase(self, data: NewPhase) -> Phase:
        with self.unit_of_work() as uow:
            phase = self.phases.create(data)
            uow.record(EntityChanged("phase", phase.id, Action.CREATED))
        return phase

    def update_phase(self, id: str, changes: PhaseUpdate) -> Phase:
        with self.unit_of_work() as uow:
            before = self.phases.get(id)
            phase = self.phases.update(id, changes)
            uow.record(EntityChanged("phase", id, Action.UPDATED))
            if phase.status is not before.status:
                uow.record(PhaseStatusChanged(id, phase.status))
        return phase

    def delete_phase(self, id: str) -> tuple[Phase, Removal]:
        with self.unit_of_work() as uow:
            phase = self.phases.get(id)
            removed = self.phases.delete(id)
            uow.record(EntityChanged("phase", id, Action.DELETED))
        return phase, removed

    def add_phase_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency:
        """Make ``phase_id`` wait for ``depends_on_phase_id``, a phase of the same
        initiative; an edge closing a cycle is ``DependencyCycleError`` showing it."""
        with self.unit_of_work() as uow:
            phase = self.phases.get(phase_id)
            prerequisite = self.phases.get(depends_on_phase_id)
            if phase.initiative_id != prerequisite.initiative_id:
                raise InvalidInputError(
                    f"phase {describe(phase)} ({self._initiative(phase.initiative_id)}) cannot "
                    f"depend on phase {describe(prerequisite)} of another initiative "
                    f"({self._initiative(prerequisite.initiative_id)})",
                    field="depends_on_phase_id",
                )
            self.phases.lock_dependency_graph(phase.initiative_id)
            existing = self.phases.find_dependency(phase_id, depends_on_phase_id)
            if existing is not None:
                return existing  # a retry: the first add already told everyone
            _refuse_cycle("phase", phase, prerequisite, self.phases.prerequisite_ids, self._name)
            dependency = self.phases.create_dependency(phase_id, depends_on_phase_id)
            uow.record(EntityChanged("phaseDependency", dependency.id, Action.CREATED))
        return dependency

    def remove_phase_dependency(self, phase_id: str, depends_on_phase_id: str) -> None:
        with self.unit_of_work() as uow:
            self.phases.remove_dependency(phase_id, depends_on_phase_id)
            uow.record(EntityChanged("phase", phase_id, Action.UPDATED))

    # --- tasks -----------------------------------------------------------------------

    def create_task(self, data: NewTask) -> Task:
        """Store the task as given (``pending`` unless told otherwise): approval gates
        the merge of finished work, not the start (``crosswalk.dispatch.landing``)."""
        with self.unit_of_work() as uow:
            task = self.tasks.create(data)
            uow.record(EntityChanged("task", task.id, Action.CREATED))
            self._settle(uow, task)
            self._derive_initiative(uow, task.initiative_id)
        return task

    def update_task(self, id: str, changes: TaskUpdate) -> Task:
        """Change the fields given; a status change is a :meth:`move_task` from any
        status, so the phase follows."""
        with self.unit_of_work() as uow:
            before = self.tasks.get(id)
            fields = {k: v for k, v in changes.items() if k != "status"}
            after = self.tasks.update(id, cast(TaskUpdate, fields)) if fields else before
            if "status" in changes:
                after = self.tasks.transition(id, changes["status"])
            return self._task_changed(uow, before, after)

    def move_task(
        self, id: str, to: TaskStatus, *, expected: Sequence[TaskStatus] | None = None
    ) -> Task:
        """``id`` -> ``to`` in one conditional statement, only from a status in
        ``expected`` (any when None; otherwise PRECONDITION_FAILED naming the status
        found). Joins the caller's unit of work when there is one."""
        with self.unit_of_work() as uow:
            before = self.tasks.get(id)
            return self._task_changed(uow, before, self.tasks.transition(id, to, expected=expected))

    def move_and_ask(
        self, id: str, to: TaskStatus, question: str, *, expected: Sequence[TaskStatus]
    ) -> tuple[Task, Message]:
        """Move the task (as ``move_task``) and ask the person ``question`` about it
        (``HumanQuestionService.ask_about_task``) in one unit of work: the person is
        asked if and only if the move happens, and the questions the move resolves are
        closed before the new one is asked."""
        if self.human_questions is None:
            raise PreconditionFailedError("this server has nobody to ask about tasks")
        with self.unit_of_work():
            moved = self.move_task(id, to, expected=expected)
            return moved, self.human_questions.ask_about_task(id, question)

    def request_changes(self, id: str) -> Task:
        """``pending_approval`` -> ``in_progress``: the person sent the work back to its
        agent (``crosswalk.dispatch.review``); any other status is PRECONDITION_FAILED."""
        return self.move_task(id, TaskStatus.IN_PROGRESS, expected=[TaskStatus.PENDING_APPROVAL])

    def claim_task(self, id: str, *, max_in_progress: int | None = None) -> Task | None:
        """``pending`` -> ``in_progress`` for dispatch, in one conditional statement (see
        ``TaskRepository.claim``): None when another claimer won or the limit is full."""
        with self.unit_of_work() as uow:
            claimed = self.tasks.claim(id, max_in_progress=max_in_progress)
            if claimed is None:
                return None
            uow.record(
                EntityChanged("task", id, Action.UPDATED), TaskStatusChanged(id, claimed.status)
            )
            self._settle(uow, claimed)
            self._questions_resolved(claimed)
        return claimed

    def delete_task(self, id: str) -> tuple[Task, Removal]:
        """Delete the task and its subtasks, recording a deletion for each."""
        with self.unit_of_work() as uow:
            task = self.tasks.get(id)
            subtasks = self.tasks.subtask_ids(id)
            for gone in [task, *(self.tasks.get(sub) for sub in subtasks)]:
                self._questions_resolved(gone, gone=True)
            removed = self.tasks.delete(id)
            uow.record(*(EntityChanged("task", gone, Action.DELETED) for gone in [id, *subtasks]))
            self._settle(uow, task)
            self._derive_initiative(uow, task.initiative_id)
        return task, removed

    def add_task_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency:
        """Make ``task_id`` wait for ``depends_on_task_id``, a task of the same
        initiative; an edge closing a cycle is ``DependencyCycleError`` showing it."""
        with self.unit_of_work() as uow:
            task = self.tasks.get(task_id)
            prerequisite = self.tasks.get(depends_on_task_id)
            if task.initiative_id != prerequisite.initiative_id:
                raise InvalidInputError(
                    f"task {describe(task)} ({self._initiative(task.initiative_id)}) cannot "
                    f"depend on task {describe(prerequisite)} "
                    f"({self._initiative(prerequisite.initiative_id)})",
                    field="depends_on_task_id",
                )
            self.tasks.lock_dependency_graph(task.initiative_id)
            existing = self.tasks.find_dependency(task_id, depends_on_task_id)
            if existing is not None:
                return existing  # a retry: the first add already told everyone
            _refuse_cycle("task", task, prerequisite, self.tasks.prerequisite_ids, self._name)
            dependency = self.tasks.create_dependency(task_id, depends_on_task_id)
            uow.record(EntityChanged("taskDependency", dependency.id, Action.CREATED))
        return dependency

    def remove_task_dependency(self, task_id: str, depends_on_task_id: str) -> None:
        with self.unit_of_work() as uow:
            self.tasks.remove_dependency(task_id, depends_on_task_id)
            uow.record(EntityChanged("task", task_id, Action.UPDATED))

    def _initiative(self, initiative_id: str | None) -> str:
        """``initiative 'name' (id)``, or ``no initiative``, for error messages."""
        if initiative_id is None:
            return "no initiative"
        found = self.initiatives.find_by_id(initiative_id)
        return f"initiative {describe(found)}" if found else f"initiative '{initiative_id}'"

    def _name(self, kind: str, id: str) -> str:
        """A task's or phase's name, for the cycle an error shows."""
        found = (self.tasks if kind == "task" else self.phases).find_by_id(id)
        return found.name if found is not None else id

    def _task_changed(self, uow: UnitOfWork, before: Task, after: Task) -> Task:
        uow.record(EntityChanged("task", after.id, Action.UPDATED))
        if after.status is not before.status or after.phase_id != before.phase_id:
            if after.status is not before.status:
                uow.record(TaskStatusChanged(after.id, after.status))
                self._questions_resolved(after)
            self._settle(uow, after)
            if before.phase_id not in (None, after.phase_id):
                self._derive_phase(uow, before.phase_id)
        if (
            TaskStatus.COMPLETED in (before.status, after.status)
            and before.status is not after.status
        ):
            self._derive_initiative(uow, after.initiative_id)
        return after

    def _questions_resolved(self, task: Task, *, gone: bool = False) -> None:
        """The task moved (or goes): what crosswalk asked the person about it is moot."""
        if self.human_questions is not None:
            self.human_questions.close_own_questions(task, gone)

    def _settle(self, uow: UnitOfWork, task: Task) -> None:
        """After a task is created, moved or deleted: its phase follows its tasks."""
        if task.phase_id is not None:
            self._derive_phase(uow, task.phase_id)

    def _derive_phase(self, uow: UnitOfWork, phase_id: str) -> None:
        phase = self.phases.find_by_id(phase_id)
        if phase is None:
            return
        statuses = [task.status for task in self.tasks.find_by_phase_id(phase_id)]
        status = derive_phase_status(phase.status, statuses)
        if status is not phase.status:
            self.phases.update(phase_id, {"status": status})
            uow.record(EntityChanged("phase", phase_id, Action.UPDATED))
            uow.record(PhaseStatusChanged(phase_id, status))

    def _derive_initiative(self, uow: UnitOfWork, initiative_id: str | None) -> None:
        """Its initiative follows the task (only a task's completion, or a task added
        or reopened, can change it)."""
        initiative = self.initiatives.find_by_id(initiative_id) if initiative_id else None
        if initiative is None:
            return
        statuses = [task.status for task in self.tasks.find_by_initiative_id(initiative.id)]
        status = derive_initiative_status(initiative.status, statuses)
        if status is not initiative.status:
            self.initiatives.update(initiative.id, {"status": status})
            uow.record(EntityChanged("initiative", initiative.id, Action.UPDATED))


def _refuse_cycle(
    kind: str,
    dependent: Named,
    prerequisite: Named,
    prerequisites_of: Callable[[str], list[str]],
    name_of: Callable[[str, str], str],
) -> None:
    """A self-edge, or an edge after which ``dependent`` would (through
    ``prerequisites_of``) wait for itself, is ``DependencyCycleError`` showing the cycle
    by name (the two ends with their ids)."""
    if dependent.id == prerequisite.id:
        raise DependencyCycleError(f"{kind} {describe(dependent)} cannot depend on itself")
    cycle = would_create_cycle(dependent.id, prerequisite.id, prerequisites_of)
    if cycle is not None:
        path = format_path([f"'{name_of(kind, id)}'" for id in cycle])
        raise DependencyCycleError(
            f"{kind} {describe(dependent)} cannot depend on {kind} {describe(prerequisite)}: "
            f"that would close the cycle {path}"
        )


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


def derive_initiative_status(
    current: InitiativeStatus, tasks: Sequence[TaskStatus]
) -> InitiativeStatus:
    """What an active or completed initiative's status becomes given its tasks': every
    task completed: ``completed``; a completed initiative that gains unfinished work is
    ``active`` again. An archived one, or one without tasks, keeps its status."""
    if current is InitiativeStatus.ARCHIVED or not tasks:
        return current
    if all(status is TaskStatus.COMPLETED for status in tasks):
        return InitiativeStatus.COMPLETED
    return InitiativeStatus.ACTIVE if current is InitiativeStatus.COMPLETED else current
