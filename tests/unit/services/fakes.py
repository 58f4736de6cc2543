"""In-memory stand-ins for the repository ports, each a dict of rows.

``FakeAgents``, ``FakeConversations``, ``FakeAnswerDeliveries``, ``FakeMessages``,
``FakeInitiatives``,
``FakePhases`` and ``FakeTasks`` implement their whole port (``fake_documents.py``
holds the rest); mypy checks that they do (the ``TYPE_CHECKING`` block at the end, and
this module is in mypy's files), and ``tests/integration/contract/`` runs one suite per
port against each fake and its SQLAlchemy adapter. Fakes store; they count no cascades
into other fakes. ``FakeUnitsOfWork`` stands in for the unit of work.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable, Sequence
from copy import deepcopy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    CHECKPOINT_TASK_TYPES,
    AgentMode,
    AgentStatus,
    ConversationStatus,
    DispatchStatus,
    InitiativeStatus,
    MessageStatus,
    ParticipantType,
    PhaseStatus,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.events import Event
from crosswalk.domain.names import random_alias
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Account,
    Agent,
    AgentUpdate,
    AnsweringRun,
    Conversation,
    Initiative,
    InitiativeUpdate,
    LocatedAgent,
    Message,
    MessageUpdate,
    NewAgent,
    NewAnsweringRun,
    NewConversation,
    NewInitiative,
    NewMessage,
    NewPhase,
    NewTask,
    Page,
    Paged,
    Phase,
    PhaseDependency,
    PhaseUpdate,
    Project,
    Proposal,
    Removal,
    Task,
    TaskDependency,
    TaskUpdate,
    Workers,
)
from crosswalk.domain.slug import slugify
from crosswalk.domain.wait_graph import PERSON, WaitEdge
from crosswalk.services.change_stream import ChangeStream

T = TypeVar(
    "T", Agent, Conversation, Message, Initiative, Phase, Task, Account, Page, Project, Proposal
)
E = TypeVar("E")

_clock = itertools.count()
_ids = itertools.count(1)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def tick() -> datetime:
    return _EPOCH + timedelta(milliseconds=next(_clock))


def fake_id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def page(
    rows: Iterable[T], *, limit: int, cursor: str | None, newest_first: bool = False
) -> Paged[T]:
    """Keyset pages over (created_at, id), as the adapters page; the cursor is the last
    id of the page (the adapters encode theirs differently: clients treat it as opaque)."""
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    limit = min(limit, MAX_PAGE_SIZE)
    ordered = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=newest_first)
    if cursor is not None:
        ids = [r.id for r in ordered]
        if cursor not in ids:
            raise InvalidInputError(f"cursor '{cursor}' is not valid", field="cursor")
        ordered = ordered[ids.index(cursor) + 1 :]
    items = ordered[:limit]
    more = len(ordered) > limit
    return Paged(items=items, next_cursor=items[-1].id if more else None)


def changed(row: T, changes: Any, allowed: type) -> T:
    unknown = sorted(set(changes) - set(allowed.__annotations__))
    if unknown:
        raise InvalidInputError(f"no field '{unknown[0]}'", field=unknown[0])
    return replace(row, **changes, updated_at=tick())


def get_row(rows: dict[str, T], kind: str, id: str) -> T:
    if id not in rows:
        raise NotFoundError(kind, id)
    return rows[id]


def oldest_first(rows: Iterable[T]) -> list[T]:
    return sorted(rows, key=lambda r: (r.created_at, r.id))


def make_agent(
    id: str, *, task_id: str | None = None, status: AgentStatus = AgentStatus.RUNNING
) -> Agent:
    now = tick()
    return Agent(
        id=id, name=f"{id}-name", task_id=task_id, initiative_id=None, session_id=None,
        worktree_id=".", provider="claude", account_id=None, status=status,
        mode=AgentMode.EXECUTE, pid=None, process_started_at=None, exit_code=None,
        output_file_path=None, result=None,
        pending_questions=None, user_dismissed_at=None, token_hash=None,
        created_at=now, updated_at=now,
    )  # fmt: skip


def make_task(id: str, *, phase_id: str | None, initiative_id: str | None = "init") -> Task:
    now = tick()
    return Task(
        id=id, phase_id=phase_id, initiative_id=initiative_id, parent_task_id=None, name=id,
        description=None, type=TaskType.AUTO, category=TaskCategory.EXECUTE,
        priority=TaskPriority.MEDIUM, status=TaskStatus.IN_PROGRESS, requires_approval=None,
        order=0, created_at=now, updated_at=now,
    )  # fmt: skip


def make_phase(id: str, initiative_id: str = "init") -> Phase:
    now = tick()
    return Phase(
        id=id, initiative_id=initiative_id, name=id, content=None,
        status=PhaseStatus.IN_PROGRESS, created_at=now, updated_at=now,
    )  # fmt: skip


R = TypeVar("R", Initiative, Phase, Task)


def by_ref(rows: Iterable[R], ref: str, limit: int) -> list[R]:
    """What ``find_by_ref`` returns: the id, then the names, then the id prefixes."""

    def rank(row: R) -> int:
        return 0 if row.id == ref else 1 if row.name == ref else 2

    found = [row for row in rows if ref in (row.id, row.name) or row.id.startswith(ref)]
    return sorted(found, key=lambda row: (rank(row), row.created_at, row.id))[:limit]


class FakeAgents:
    """The whole ``AgentRepository`` port in memory; ``tasks`` answers which task is in
    which phase (for ``workers_in_phase``)."""

    def __init__(self, *agents: Agent, tasks: FakeTasks | None = None) -> None:
        self.rows = {agent.id: agent for agent in agents}
        self.tasks = tasks or FakeTasks()

    def create(self, data: NewAgent) -> Agent:
        name = data.name
        if name is None:
            name = random_alias()
            while self.find_by_name(name) is not None:
                name = f"{random_alias()}-{next(_ids)}"
        elif self.find_by_name(name) is not None:
            raise ConflictError(f"agent name '{name}' is already taken")
        if data.task_id is not None:
            self.tasks.get(data.task_id)
        now = tick()
        row = Agent(
            id=fake_id("a"), name=name, task_id=data.task_id, initiative_id=data.initiative_id,
            session_id=data.session_id, worktree_id=data.worktree_id, provider=data.provider,
            account_id=data.account_id, status=data.status, mode=data.mode, pid=data.pid,
            process_started_at=None,
            exit_code=None, output_file_path=data.output_file_path, result=None,
            pending_questions=None, user_dismissed_at=None, token_hash=data.token_hash,
            created_at=now, updated_at=now, server_id=data.server_id,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Agent | None:
        return self.rows.get(id)

    def get(self, id: str) -> Agent:
        if id not in self.rows:
            raise NotFoundError("agent", id)
        return self.rows[id]

    def find_all(self) -> list[Agent]:
        return sorted(self.rows.values(), key=lambda a: (a.created_at, a.id))

    def find_by_name(self, name: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.name == name), None)

    def _recent_first(self, keep: Callable[[Agent], bool]) -> list[Agent]:
        found = [a for a in self.rows.values() if keep(a)]
        return sorted(found, key=lambda a: (a.updated_at, a.id), reverse=True)

    def find_by_task_id(self, task_id: str) -> list[Agent]:
        return self._recent_first(lambda a: a.task_id == task_id)

    def find_by_ids(self, ids: Collection[str]) -> list[Agent]:
        return [a for a in self.find_all() if a.id in ids]

    def find_by_task_ids(self, task_ids: Collection[str]) -> list[Agent]:
        return self._recent_first(lambda a: a.task_id in task_ids)

    def find_by_session_id(self, session_id: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.session_id == session_id), None)

    def find_by_status(self, status: AgentStatus) -> list[Agent]:
        return [a for a in self.find_all() if a.status is status]

    def find_by_server_id(self, server_id: str) -> list[Agent]:
        return [a for a in self.find_all() if a.server_id == server_id]

    def find_by_token_hash(self, token_hash: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.token_hash == token_hash), None)

    def find_active_by_task_id(self, task_id: str) -> list[Agent]:
        return self._recent_first(
            lambda a: a.task_id == task_id and a.status in ACTIVE_AGENT_STATUSES
        )

    def locate(self, id_or_name: str) -> LocatedAgent | None:
        agent = self.find_by_id(id_or_name) or self.find_by_name(id_or_name)
        if agent is None:
            return None
        task = self.tasks.rows.get(agent.task_id) if agent.task_id is not None else None
        if task is None:
            return LocatedAgent(agent, None, None)
        return LocatedAgent(agent, task.phase_id, task.initiative_id)

    def workers_of_task(self, task_id: str) -> Workers | None:
        task = self.tasks.rows.get(task_id)
        if task is None:
            return None
        return Workers(task.phase_id, task.initiative_id, self.find_active_by_task_id(task_id))

    def workers_in_phase(self, phase_id: str) -> Workers | None:
        """Phases are the tasks' ``phases`` (none without them)."""
        phases = self.tasks.phases
        phase = phases.rows.get(phase_id) if phases is not None else None
        if phase is None:
            return None
        in_phase = {t.id for t in self.tasks.rows.values() if t.phase_id == phase_id}
        working = self._recent_first(
            lambda a: a.task_id in in_phase and a.status in ACTIVE_AGENT_STATUSES
        )
        return Workers(phase.id, phase.initiative_id, working)

    def list_page(
        self,
        *,
        status: AgentStatus | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Agent]:
        rows = [
            a for a in self.rows.values()
            if (status is None or a.status is status)
            and (task_id is None or a.task_id == task_id)
            and (initiative_id is None or a.initiative_id == initiative_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: AgentUpdate) -> Agent:
        name = changes.get("name")
        if name is not None and (other := self.find_by_name(name)) and other.id != id:
            raise ConflictError(f"agent name '{name}' is already taken")
        row = changed(self.get(id), changes, AgentUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {}


class FakeInitiatives:
    """The whole ``InitiativeRepository`` port in memory (no cascades to count)."""

    def __init__(self, *initiatives: Initiative) -> None:
        self.rows = {initiative.id: initiative for initiative in initiatives}

    def create(self, data: NewInitiative) -> Initiative:
        taken = {i.branch for i in self.rows.values()}
        if data.branch is None:
            base = f"cw/{slugify(data.name) or 'initiative'}"
            branch, suffix = base, 2
            while branch in taken:
                branch, suffix = f"{base}-{suffix}", suffix + 1
        elif data.branch in taken:
            raise ConflictError(f"branch '{data.branch}' is already used by another initiative")
        else:
            branch = data.branch
        now = tick()
        row = Initiative(
            id=fake_id("i"), name=data.name, status=data.status,
            merge_requires_approval=data.merge_requires_approval, branch=branch,
            dispatch_status=DispatchStatus.OFF, dispatch_max_agents=None, dispatch_provider=None,
            auto_push=data.auto_push, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_ref(self, ref: str, limit: int) -> list[Initiative]:
        return by_ref(self.rows.values(), ref, limit)

    def find_by_id(self, id: str) -> Initiative | None:
        return self.rows.get(id)

    def get(self, id: str) -> Initiative:
        return get_row(self.rows, "initiative", id)

    def find_all(self) -> list[Initiative]:
        return oldest_first(self.rows.values())

    def find_by_status(self, status: InitiativeStatus) -> list[Initiative]:
        return [i for i in self.find_all() if i.status is status]

    def list_page(
        self,
        *,
        status: InitiativeStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Initiative]:
        rows = [i for i in self.rows.values() if status is None or i.status is status]
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: InitiativeUpdate) -> Initiative:
        branch = changes.get("branch")
        if branch is not None and any(
            i.branch == branch and i.id != id for i in self.rows.values()
        ):
            raise ConflictError(f"branch '{branch}' is already used by another initiative")
        row = changed(self.get(id), changes, InitiativeUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {}


class FakePhases:
    """The whole ``PhaseRepository`` port in memory."""

    def __init__(self, *phases: Phase, initiatives: FakeInitiatives | None = None) -> None:
        self.rows = {phase.id: phase for phase in phases}
        self.initiatives = initiatives
        self.edges = FakeEdges("phase", PhaseDependency, self.get)

    def create(self, data: NewPhase) -> Phase:
        if self.initiatives is not None:
            self.initiatives.get(data.initiative_id)
        now = tick()
        row = Phase(
            id=fake_id("p"), initiative_id=data.initiative_id, name=data.name,
            content=data.content, status=data.status, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_ref(self, ref: str, limit: int) -> list[Phase]:
        return by_ref(self.rows.values(), ref, limit)

    def find_by_id(self, id: str) -> Phase | None:
        return self.rows.get(id)

    def get(self, id: str) -> Phase:
        return get_row(self.rows, "phase", id)

    def find_all(self) -> list[Phase]:
        return oldest_first(self.rows.values())

    def find_by_initiative_id(self, initiative_id: str) -> list[Phase]:
        return [p for p in self.find_all() if p.initiative_id == initiative_id]

    def find_by_ids(self, ids: Collection[str]) -> list[Phase]:
        return [p for p in self.find_all() if p.id in ids]

    def prerequisite_ids_of(self, phase_ids: Collection[str]) -> dict[str, list[str]]:
        return {id: self.edges.prerequisite_ids(id) for id in phase_ids}

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        status: PhaseStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Phase]:
        rows = [
            p for p in self.rows.values()
            if (initiative_id is None or p.initiative_id == initiative_id)
            and (status is None or p.status is status)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: PhaseUpdate) -> Phase:
        row = changed(self.get(id), changes, PhaseUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {"phaseDependencies": self.edges.drop_touching(id)}

    def lock_dependency_graph(self, initiative_id: str) -> None:
        pass  # one thread, nothing to serialise

    def find_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency | None:
        return self.edges.rows.get((phase_id, depends_on_phase_id))

    def prerequisite_ids(self, phase_id: str) -> list[str]:
        return self.edges.prerequisite_ids(phase_id)

    def create_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency:
        return self.edges.add(phase_id, depends_on_phase_id)

    def remove_dependency(self, phase_id: str, depends_on_phase_id: str) -> None:
        self.edges.remove(phase_id, depends_on_phase_id)

    def get_dependencies(self, phase_id: str) -> list[Phase]:
        return oldest_first(self.rows[i] for i in self.edges.prerequisite_ids(phase_id))

    def get_dependents(self, phase_id: str) -> list[Phase]:
        return oldest_first(self.rows[i] for i in self.edges.dependent_ids(phase_id))


class FakeEdges(Generic[E]):
    """Dependency edges keyed by (dependent, prerequisite), as both graph ports store them."""

    def __init__(
        self, kind: str, model: Callable[..., E], require: Callable[[str], object]
    ) -> None:
        self.kind = kind
        self.model = model
        self.require = require
        self.rows: dict[tuple[str, str], E] = {}

    def add(self, dependent: str, prerequisite: str) -> E:
        self.require(dependent)
        self.require(prerequisite)
        if (dependent, prerequisite) in self.rows:
            raise ConflictError(f"{self.kind} dependency already exists")
        edge = self.model(fake_id("d"), dependent, prerequisite, tick())
        self.rows[(dependent, prerequisite)] = edge
        return edge

    def remove(self, dependent: str, prerequisite: str) -> None:
        if self.rows.pop((dependent, prerequisite), None) is None:
            self.require(dependent)
            self.require(prerequisite)
            raise NotFoundError(
                f"{self.kind} dependency",
                f"{dependent} -> {prerequisite}",
                f"{self.kind} '{dependent}' does not depend on {self.kind} '{prerequisite}'",
            )

    def prerequisite_ids(self, dependent: str) -> list[str]:
        return sorted(p for d, p in self.rows if d == dependent)

    def dependent_ids(self, prerequisite: str) -> list[str]:
        return sorted(d for d, p in self.rows if p == prerequisite)

    def drop_touching(self, *ids: str) -> int:
        gone = [key for key in self.rows if set(key) & set(ids)]
        for key in gone:
            del self.rows[key]
        return len(gone)


class FakeTasks:
    """The whole ``TaskRepository`` port in memory. ``phases`` and ``initiatives``,
    when given, are what ``create`` checks references against and inherits from."""

    def __init__(
        self,
        *tasks: Task,
        phases: FakePhases | None = None,
        initiatives: FakeInitiatives | None = None,
    ) -> None:
        self.rows = {task.id: task for task in tasks}
        self.phases = phases
        self.initiatives = initiatives
        self.edges = FakeEdges("task", TaskDependency, self.get)

    def create(self, data: NewTask) -> Task:
        now = tick()
        row = Task(
            id=fake_id("t"), phase_id=data.phase_id, initiative_id=self._initiative_of(data),
            parent_task_id=data.parent_task_id, name=data.name, description=data.description,
            type=data.type, category=data.category, priority=data.priority, status=data.status,
            requires_approval=data.requires_approval, order=data.order,
            created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def _initiative_of(self, data: NewTask) -> str | None:
        initiative_id = data.initiative_id
        if initiative_id is not None and self.initiatives is not None:
            self.initiatives.get(initiative_id)
        if data.phase_id is not None and self.phases is not None:
            phase_initiative = self.phases.get(data.phase_id).initiative_id
            if initiative_id not in (None, phase_initiative):
                raise InvalidInputError(
                    f"phase '{data.phase_id}' belongs to initiative '{phase_initiative}'",
                    field="phase_id",
                )
            initiative_id = phase_initiative
        if data.parent_task_id is not None:
            parent = self.get(data.parent_task_id)
            initiative_id = initiative_id or parent.initiative_id
        return initiative_id

    def find_by_ref(self, ref: str, limit: int) -> list[Task]:
        return by_ref(self.rows.values(), ref, limit)

    def find_by_id(self, id: str) -> Task | None:
        return self.rows.get(id)

    def get(self, id: str) -> Task:
        return get_row(self.rows, "task", id)

    def find_all(self) -> list[Task]:
        return oldest_first(self.rows.values())

    def _planned(self, keep: Callable[[Task], bool]) -> list[Task]:
        found = [t for t in self.rows.values() if keep(t)]
        return sorted(found, key=lambda t: (t.order, t.created_at, t.id))

    def find_by_parent_task_id(self, parent_task_id: str) -> list[Task]:
        return self._planned(lambda t: t.parent_task_id == parent_task_id)

    def find_by_phase_id(self, phase_id: str) -> list[Task]:
        return self._planned(lambda t: t.phase_id == phase_id)

    def find_by_initiative_id(self, initiative_id: str) -> list[Task]:
        return self._planned(lambda t: t.initiative_id == initiative_id)

    def find_by_ids(self, ids: Collection[str]) -> list[Task]:
        return [t for t in self.find_all() if t.id in ids]

    def prerequisite_ids_of(self, task_ids: Collection[str]) -> dict[str, list[str]]:
        return {id: self.edges.prerequisite_ids(id) for id in task_ids}

    def requires_approval_of(self, task_ids: Collection[str]) -> dict[str, bool]:
        return {id: self.requires_approval(id) for id in task_ids if id in self.rows}

    def find_pending_approval(self, initiative_id: str | None = None) -> list[Task]:
        return [
            t for t in self.find_all()
            if t.status is TaskStatus.PENDING_APPROVAL
            and (initiative_id is None or t.initiative_id == initiative_id)
        ]  # fmt: skip

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        parent_task_id: str | None = None,
        status: TaskStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Task]:
        rows = [
            t for t in self.rows.values()
            if (initiative_id is None or t.initiative_id == initiative_id)
            and (phase_id is None or t.phase_id == phase_id)
            and (parent_task_id is None or t.parent_task_id == parent_task_id)
            and (status is None or t.status is status)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: TaskUpdate) -> Task:
        row = changed(self.get(id), changes, TaskUpdate)
        self.rows[id] = row
        return row

    def subtask_ids(self, id: str) -> list[str]:
        below = [t.id for t in self.rows.values() if t.parent_task_id == id]
        return sorted(below + [deeper for b in below for deeper in self.subtask_ids(b)])

    def delete(self, id: str) -> Removal:
        gone = [self.get(id).id, *self.subtask_ids(id)]
        for task_id in gone:
            del self.rows[task_id]
        return {
            "tasks": len(gone) - 1,
            "taskDependencies": self.edges.drop_touching(*gone),
            "agentsDetached": 0,
            "conversationsDetached": 0,
        }

    def lock_dependency_graph(self, initiative_id: str | None) -> None:
        pass  # one thread, nothing to serialise

    def find_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency | None:
        return self.edges.rows.get((task_id, depends_on_task_id))

    def prerequisite_ids(self, task_id: str) -> list[str]:
        return self.edges.prerequisite_ids(task_id)

    def create_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency:
        return self.edges.add(task_id, depends_on_task_id)

    def remove_dependency(self, task_id: str, depends_on_task_id: str) -> None:
        self.edges.remove(task_id, depends_on_task_id)

    def get_dependencies(self, task_id: str) -> list[Task]:
        return oldest_first(self.rows[i] for i in self.edges.prerequisite_ids(task_id))

    def get_dependents(self, task_id: str) -> list[Task]:
        return oldest_first(self.rows[i] for i in self.edges.dependent_ids(task_id))

    def requires_approval(self, task_id: str) -> bool:
        task = self.get(task_id)
        if task.requires_approval is not None:
            return task.requires_approval
        if task.initiative_id is None or self.initiatives is None:
            return False
        initiative = self.initiatives.find_by_id(task.initiative_id)
        return initiative is not None and initiative.merge_requires_approval

    def transition(
        self, task_id: str, to: TaskStatus, *, expected: Sequence[TaskStatus] | None = None
    ) -> Task:
        task = self.get(task_id)
        if expected is not None and task.status not in expected:
            wanted = " or ".join(status.value for status in expected)
            raise PreconditionFailedError(f"task '{task_id}' is {task.status.value}, not {wanted}")
        return self.update(task_id, {"status": to})

    def claim(self, task_id: str, *, max_in_progress: int | None = None) -> Task | None:
        task = self.get(task_id)
        if task.status is not TaskStatus.PENDING:
            return None
        running = [
            t for t in self.rows.values()
            if t.initiative_id == task.initiative_id and t.status is TaskStatus.IN_PROGRESS
            and t.type not in CHECKPOINT_TASK_TYPES
        ]  # fmt: skip
        if max_in_progress is not None and len(running) >= max_in_progress:
            return None
        return self.update(task_id, {"status": TaskStatus.IN_PROGRESS})

    def find_ready(
        self, *, initiative_id: str | None = None, phase_id: str | None = None
    ) -> list[Task]:
        rank = {TaskPriority.HIGH: 0, TaskPriority.MEDIUM: 1, TaskPriority.LOW: 2}
        ready = [
            t for t in self.rows.values()
            if t.status is TaskStatus.PENDING
            and (initiative_id is None or t.initiative_id == initiative_id)
            and (phase_id is None or t.phase_id == phase_id)
            and all(
                self.rows[p].status is TaskStatus.COMPLETED
                for p in self.edges.prerequisite_ids(t.id)
            )
            and not self._unfinished_phases(t)
        ]  # fmt: skip
        return sorted(ready, key=lambda t: (rank[t.priority], t.order, t.created_at, t.id))

    def _unfinished_phases(self, task: Task) -> list[str]:
        if task.phase_id is None or self.phases is None:
            return []
        return [
            p for p in self.phases.edges.prerequisite_ids(task.phase_id)
            if self.phases.get(p).status is not PhaseStatus.COMPLETED
        ]  # fmt: skip


class FakeConversations:
    """The whole ``ConversationRepository`` port in memory; ``messages`` (when given)
    are where agents' open questions to the person are, for ``waits_of``."""

    def __init__(self, messages: FakeMessages | None = None) -> None:
        self.rows: dict[str, Conversation] = {}
        self.messages = messages

    def create(self, data: NewConversation) -> Conversation:
        if data.id in self.rows:
            raise ConflictError("conversation conflicts with an existing one (id already taken)")
        now = tick()
        row = Conversation(
            id=data.id or fake_id("c"), from_agent_id=data.from_agent_id,
            to_agent_id=data.to_agent_id, initiative_id=data.initiative_id,
            phase_id=data.phase_id, task_id=data.task_id, question=data.question, answer=None,
            status=ConversationStatus.PENDING, abandoned_reason=None,
            target_kind=data.target_kind, created_at=now,
            updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def lock_wait_graph(self) -> None:
        pass  # one thread, nothing to serialise

    def waits_of(self, node: str) -> list[WaitEdge]:
        asker = None if node == PERSON else node
        edges = [
            WaitEdge(node, c.to_agent_id, c.id)
            for c in self._pending(lambda c: c.from_agent_id == asker)
        ]
        if asker is not None and self.messages is not None:
            edges += [
                WaitEdge(node, PERSON, m.id)
                for m in self.messages.find_requiring_response(sender_id=asker)
                if m.sender_type is ParticipantType.AGENT
                and m.recipient_type is ParticipantType.USER
            ]
        return edges

    def find_by_id(self, id: str) -> Conversation | None:
        return self.rows.get(id)

    def get(self, id: str) -> Conversation:
        if id not in self.rows:
            raise NotFoundError("conversation", id)
        return self.rows[id]

    def _pending(self, keep: Callable[[Conversation], bool]) -> list[Conversation]:
        found = [
            c for c in self.rows.values() if c.status is ConversationStatus.PENDING and keep(c)
        ]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def find_pending_for_agent(
        self, agent_id: str, *, after_id: str | None = None, limit: int | None = None
    ) -> list[Conversation]:
        pending = self._pending(lambda c: c.to_agent_id == agent_id)
        after = self.rows.get(after_id) if after_id is not None else None
        if after is not None:
            pending = [c for c in pending if (c.created_at, c.id) > (after.created_at, after.id)]
        return pending if limit is None else pending[:limit]

    def count_pending_between(self, from_agent_id: str, to_agent_id: str) -> int:
        return len(
            self._pending(
                lambda c: (c.from_agent_id, c.to_agent_id) == (from_agent_id, to_agent_id)
            )
        )

    def find_pending_involving(self, agent_id: str) -> list[Conversation]:
        return self._pending(lambda c: agent_id in (c.from_agent_id, c.to_agent_id))

    def answer(
        self, id: str, answer: str, *, addressed_to: str | None = None
    ) -> Conversation | None:
        row = self.rows.get(id)
        if (
            row is None
            or row.status is not ConversationStatus.PENDING
            or addressed_to not in (None, row.to_agent_id)
        ):
            return None
        row = replace(row, answer=answer, status=ConversationStatus.ANSWERED, updated_at=tick())
        self.rows[id] = row
        return row

    def abandon_pending_to(self, agent_id: str, reason: str) -> list[Conversation]:
        abandoned = []
        for row in self.find_pending_for_agent(agent_id):
            row = replace(
                row, status=ConversationStatus.ABANDONED, abandoned_reason=reason, updated_at=tick()
            )
            self.rows[row.id] = row
            abandoned.append(row)
        return abandoned

    def abandon(self, ids: list[str], reason: str) -> list[Conversation]:
        abandoned = []
        for row in self._pending(lambda c: c.id in ids):
            row = replace(
                row, status=ConversationStatus.ABANDONED, abandoned_reason=reason, updated_at=tick()
            )
            self.rows[row.id] = row
            abandoned.append(row)
        return abandoned

    def list_page(
        self,
        *,
        agent_id: str | None = None,
        status: ConversationStatus | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        task_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Conversation]:
        rows = [
            c for c in self.rows.values()
            if (agent_id is None or agent_id in (c.from_agent_id, c.to_agent_id))
            and (status is None or c.status is status)
            and (initiative_id is None or c.initiative_id == initiative_id)
            and (phase_id is None or c.phase_id == phase_id)
            and (task_id is None or c.task_id == task_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor, newest_first=True)


class FakeAnsweringRuns:
    """The whole ``AnsweringRunRepository`` port in memory."""

    def __init__(self, agents: FakeAgents | None = None) -> None:
        self.rows: dict[str, AnsweringRun] = {}
        self.agents = agents

    def start(self, data: NewAnsweringRun) -> AnsweringRun:
        if self.agents is not None:
            self.agents.get(data.agent_id)
        row = AnsweringRun(
            id=fake_id("r"), agent_id=data.agent_id, session_number=data.session_number,
            question_ids=list(data.question_ids), started_at=tick(), ended_at=None,
            outcome=None, left_changes=None,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def finish(self, id: str, outcome: str, left_changes: Sequence[str] | None) -> AnsweringRun:
        row = self.rows.get(id)
        if row is None:
            raise NotFoundError("answering run", id)
        if row.ended_at is not None:
            return row
        changes = None if left_changes is None else list(left_changes)
        row = replace(row, ended_at=tick(), outcome=outcome, left_changes=changes)
        self.rows[id] = row
        return row

    def find_open(self, agent_id: str | None = None) -> list[AnsweringRun]:
        found = [
            r for r in self.rows.values()
            if r.ended_at is None and (agent_id is None or r.agent_id == agent_id)
        ]  # fmt: skip
        return sorted(found, key=lambda r: (r.started_at, r.id))

    def find_by_agent(self, agent_id: str, *, limit: int = 20) -> list[AnsweringRun]:
        found = [r for r in self.rows.values() if r.agent_id == agent_id]
        return sorted(found, key=lambda r: (r.started_at, r.id), reverse=True)[:limit]


class FakeAnswerDeliveries:
    """The whole ``AnswerDeliveryRepository`` port in memory, reading the answers
    from ``conversations``."""

    def __init__(self, conversations: FakeConversations) -> None:
        self.conversations = conversations
        self.rows: dict[str, tuple[str, bool]] = {}  # conversation id -> (agent id, delivered)

    def expect(self, conversation_id: str, agent_id: str) -> None:
        self.conversations.get(conversation_id)
        self.rows.setdefault(conversation_id, (agent_id, False))

    def find_undelivered(self, agent_id: str) -> list[Conversation]:
        answered = [
            self.conversations.rows[id]
            for id, (owner, delivered) in self.rows.items()
            if owner == agent_id and not delivered
            and self.conversations.rows[id].status is ConversationStatus.ANSWERED
        ]  # fmt: skip
        return sorted(answered, key=lambda c: (c.updated_at, c.id))

    def mark_delivered(self, agent_id: str, conversation_ids: Sequence[str]) -> int:
        marked = [
            id for id in dict.fromkeys(conversation_ids)
            if self.rows.get(id) == (agent_id, False)
        ]  # fmt: skip
        for id in marked:
            self.rows[id] = (agent_id, True)
        return len(marked)


class FakeMessages:
    """The whole ``MessageRepository`` port in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, Message] = {}

    def create(self, data: NewMessage) -> Message:
        for role, kind, ident in (
            ("sender", data.sender_type, data.sender_id),
            ("recipient", data.recipient_type, data.recipient_id),
        ):
            if kind is ParticipantType.AGENT and ident is None:
                raise InvalidInputError(f"an agent {role} needs {role}_id", field=f"{role}_id")
        if data.id in self.rows:
            raise ConflictError("message conflicts with an existing one (id already taken)")
        if data.parent_message_id is not None:
            self.get(data.parent_message_id)
        now = tick()
        row = Message(
            id=data.id or fake_id("m"), sender_type=data.sender_type, sender_id=data.sender_id,
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

    def oldest_first(self, keep: Callable[[Message], bool]) -> list[Message]:
        return sorted(
            (m for m in self.rows.values() if keep(m)), key=lambda m: (m.created_at, m.id)
        )

    def find_all(self) -> list[Message]:
        return self.oldest_first(lambda m: True)

    def find_told(self, agent_ids: Collection[str], *, limit: int) -> list[Message]:
        told = self.oldest_first(
            lambda m: m.sender_type is ParticipantType.USER and m.recipient_id in agent_ids
        )
        return told[::-1][:limit]

    def find_pending_for_user(self) -> list[Message]:
        return self.oldest_first(
            lambda m: m.recipient_type is ParticipantType.USER and m.status is MessageStatus.PENDING
        )

    def find_pending_from_user(self, agent_id: str) -> list[Message]:
        return self.oldest_first(
            lambda m: (
                m.recipient_id == agent_id
                and m.sender_type is ParticipantType.USER
                and m.status is MessageStatus.PENDING
            )
        )

    def mark_read(self, ids: Sequence[str]) -> list[Message]:
        wanted = set(ids)
        pending = self.oldest_first(lambda m: m.id in wanted and m.status is MessageStatus.PENDING)
        return [self.update(m.id, {"status": MessageStatus.READ}) for m in pending]

    def find_requiring_response(
        self, *, sender_id: str | None = None, task_id: str | None = None
    ) -> list[Message]:
        return self.oldest_first(
            lambda m: (
                m.requires_response
                and m.status is not MessageStatus.RESPONDED
                and (sender_id is None or m.sender_id == sender_id)
                and (task_id is None or m.task_id == task_id)
            )
        )

    def find_replies(self, parent_message_id: str) -> list[Message]:
        return self.oldest_first(lambda m: m.parent_message_id == parent_message_id)

    def find_thread(self, id: str) -> list[Message]:
        below = self.find_replies(id)
        for reply in list(below):
            below += self.find_thread(reply.id)
        return sorted(below, key=lambda m: (m.created_at, m.id))

    def list_page(
        self,
        *,
        sender_type: ParticipantType | None = None,
        sender_id: str | None = None,
        recipient_type: ParticipantType | None = None,
        recipient_id: str | None = None,
        status: MessageStatus | None = None,
        parent_message_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Message]:
        rows = [
            m for m in self.rows.values()
            if (sender_type is None or m.sender_type is sender_type)
            and (sender_id is None or m.sender_id == sender_id)
            and (recipient_type is None or m.recipient_type is recipient_type)
            and (recipient_id is None or m.recipient_id == recipient_id)
            and (status is None or m.status is status)
            and (parent_message_id is None or m.parent_message_id == parent_message_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: MessageUpdate) -> Message:
        row = changed(self.get(id), changes, MessageUpdate)
        self.rows[id] = row
        return row

    def reply(self, data: NewMessage) -> tuple[Message, Message]:
        if data.parent_message_id is None:
            raise InvalidInputError("a reply needs parent_message_id", field="parent_message_id")
        parent = self.get(data.parent_message_id)
        if parent.status is MessageStatus.RESPONDED:
            raise ConflictError(f"message '{parent.id}' is already responded to")
        parent = self.update(parent.id, {"status": MessageStatus.RESPONDED})
        return parent, self.create(data)

    def delete(self, id: str) -> Removal:
        below = self.find_thread(self.get(id).id)
        for message in [self.rows[id], *below]:
            del self.rows[message.id]
        return {"replies": len(below)}


class FakeUnitOfWork:
    """The unit-of-work port over in-memory repositories. Like the real one, it keeps
    a unit's writes only if the block ends without an exception: the outermost block
    snapshots the stores it guards and, on an exception, puts them back as they were
    and drops the events; otherwise it publishes them. Nested blocks join the outer one."""

    def __init__(self, owner: FakeUnitsOfWork) -> None:
        self._owner = owner

    def __enter__(self) -> FakeUnitOfWork:
        if self._owner.depth == 0:
            self._owner.snapshot = _snapshot(self._owner.stores)
        self._owner.depth += 1
        return self

    def record(self, *events: Event) -> None:
        assert self._owner.depth > 0, "record() outside the with block"
        self._owner.pending.extend(events)

    def serialize(self, *key: str | None) -> None:
        assert self._owner.depth > 0, "serialize() outside the with block"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._owner.depth -= 1
        if self._owner.depth:
            return
        events, self._owner.pending = tuple(self._owner.pending), []
        snapshot, self._owner.snapshot = self._owner.snapshot, []
        if exc_type is None:
            self._owner.committed.append(events)
            self._owner.stream.publish_committed(events)
        else:
            _restore(snapshot)
            self._owner.rolled_back.append(events)


class FakeUnitsOfWork:
    """A ``UnitOfWorkFactory`` over the fake repositories ``stores`` (and every fake
    they hold: an agents fake holds its tasks, which hold phases and initiatives), that
    remembers what each unit published or dropped."""

    def __init__(self, stream: ChangeStream, *stores: object) -> None:
        self.stream = stream
        self.stores = stores
        self.depth = 0
        self.pending: list[Event] = []
        self.snapshot: list[tuple[object, str, object]] = []
        self.committed: list[tuple[Event, ...]] = []
        self.rolled_back: list[tuple[Event, ...]] = []

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def published(self) -> list[Event]:
        return [event for events in self.committed for event in events]


def _is_fake(value: object) -> bool:
    return type(value).__module__.startswith("tests.") and hasattr(value, "__dict__")


def _snapshot(stores: Iterable[object]) -> list[tuple[object, str, object]]:
    """A copy of each container (rows, links, edges) of every fake reachable from
    ``stores``, by owner and attribute. Rows are frozen, so copying the containers
    (and the lists inside them) is enough."""
    saved: list[tuple[object, str, object]] = []
    seen: set[int] = set()
    pending = list(stores)
    while pending:
        store = pending.pop()
        if id(store) in seen:
            continue
        seen.add(id(store))
        for name, value in vars(store).items():
            if isinstance(value, dict | list | set):
                saved.append((store, name, deepcopy(value)))
            elif _is_fake(value):
                pending.append(value)
    return saved


def _restore(saved: list[tuple[object, str, object]]) -> None:
    for store, name, value in saved:
        setattr(store, name, value)


if TYPE_CHECKING:  # mypy: each fake satisfies its port
    from crosswalk.db.repositories import (
        AgentRepository,
        AnswerDeliveryRepository,
        AnsweringRunRepository,
        ConversationRepository,
        InitiativeRepository,
        MessageRepository,
        PhaseRepository,
        TaskRepository,
    )
    from crosswalk.services.agents import TaskLookup
    from crosswalk.services.unit_of_work import UnitOfWorkFactory

    _agents: AgentRepository = FakeAgents()
    _conversations: ConversationRepository = FakeConversations()
    _deliveries: AnswerDeliveryRepository = FakeAnswerDeliveries(FakeConversations())
    _answering: AnsweringRunRepository = FakeAnsweringRuns()
    _messages: MessageRepository = FakeMessages()
    _task_lookup: TaskLookup = FakeTasks()
    _initiatives: InitiativeRepository = FakeInitiatives()
    _phases: PhaseRepository = FakePhases()
    _tasks: TaskRepository = FakeTasks()
    _units: UnitOfWorkFactory = FakeUnitsOfWork(ChangeStream())
