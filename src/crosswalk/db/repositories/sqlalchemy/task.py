"""Adapter: tasks, their dependencies, their approval and which are ready to run.

Besides the task adapter, this module holds what the hierarchy adapters share:
the counting of what a delete takes along with its tasks (initiative and phase
adapters) and the dependency edges between tasks or between phases.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    CTE,
    ColumnElement,
    Connection,
    Select,
    Table,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    update,
)

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    count_where,
    field_names,
    paginate,
    require_row,
    serialize_on,
)
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import (
    agents,
    conversations,
    initiatives,
    phase_dependencies,
    phases,
    task_dependencies,
    tasks,
)
from crosswalk.domain.dependency_graph import format_path, would_create_cycle
from crosswalk.domain.enums import CHECKPOINT_TASK_TYPES, PhaseStatus, TaskPriority, TaskStatus
from crosswalk.domain.errors import (
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    NewTask,
    Paged,
    Removal,
    Task,
    TaskDependency,
    TaskUpdate,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

_t = tasks.c
_d = task_dependencies.c

# --- shared by the hierarchy adapters -------------------------------------------


def removed_tasks(seed: ColumnElement[bool]) -> CTE:
    """Ids of the tasks matching ``seed`` and, recursively, their subtasks: what a
    delete removes through ``ON DELETE CASCADE`` on ``parent_task_id``."""
    removed = select(_t.id).where(seed).cte("removed_tasks", recursive=True)
    subtask = tasks.alias("subtask")
    return removed.union(select(subtask.c.id).where(subtask.c.parent_task_id == removed.c.id))


def task_cascade_counts(
    conn: Connection,
    removed: CTE,
    *,
    agents_also: ColumnElement[bool] | None = None,
    conversations_also: ColumnElement[bool] | None = None,
) -> Removal:
    """What deleting the ``removed`` tasks takes along: the tasks themselves, their
    dependency rows, and the agents and conversations whose reference is nulled.

    ``*_also`` add the references the deleted parent entity itself holds (an
    agent on the initiative, a conversation about the phase), counted once per row.
    """
    ids = select(removed.c.id)
    agent_refs = agents.c.task_id.in_(ids)
    conversation_refs = conversations.c.task_id.in_(ids)
    return {
        "tasks": int(conn.execute(select(func.count()).select_from(removed)).scalar_one()),
        "taskDependencies": count_where(
            conn,
            task_dependencies,
            or_(_d.task_id.in_(ids), _d.depends_on_task_id.in_(ids)),
        ),
        "agentsDetached": count_where(
            conn, agents, agent_refs if agents_also is None else or_(agent_refs, agents_also)
        ),
        "conversationsDetached": count_where(
            conn,
            conversations,
            conversation_refs
            if conversations_also is None
            else or_(conversation_refs, conversations_also),
        ),
    }


E = TypeVar("E")


class DependencyEdges(Generic[E]):
    """The table of edges "``{kind}_id`` waits for ``depends_on_{kind}_id``" between
    rows of ``nodes``: storing, finding and removing one, and the joins that read
    either direction. The rules an edge must follow (no self-edge, no cycle, both ends
    in one initiative) are ``PlanningService``'s."""

    def __init__(self, kind: str, nodes: Table, edges: Table, model: type[E]) -> None:
        self.kind = kind
        self._nodes = nodes
        self._edges = edges
        self._model = model
        self._columns = columns_for(edges, model)
        self._dependent = edges.c[f"{kind}_id"]
        self._prerequisite = edges.c[f"depends_on_{kind}_id"]

    def find(self, conn: Connection, dependent: str, prerequisite: str) -> E | None:
        row = conn.execute(
            select(*self._columns).where(self._edge(dependent, prerequisite))
        ).first()
        return None if row is None else self._model(*row)

    def prerequisite_ids(self, conn: Connection, dependent: str) -> list[str]:
        query = select(self._prerequisite).where(self._dependent == dependent)
        return list(conn.execute(query.order_by(self._prerequisite)).scalars())

    def prerequisite_ids_of(
        self, conn: Connection, dependents: Collection[str]
    ) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {id: [] for id in dependents}
        if not found:
            return found
        query = select(self._dependent, self._prerequisite).where(self._dependent.in_(list(found)))
        for dependent, prerequisite in conn.execute(query.order_by(self._prerequisite)):
            found[dependent].append(prerequisite)
        return found

    def add(self, conn: Connection, dependent: str, prerequisite: str) -> E:
        """Store the edge; both ends must exist (``NotFoundError`` naming the missing
        one), and an edge already stored is a ``ConflictError`` (a unique constraint)."""
        require_row(conn, self._nodes, self.kind, dependent)
        require_row(conn, self._nodes, self.kind, prerequisite)
        row = conn.execute(
            insert(self._edges)
            .values(
                {
                    self._edges.c.id: new_id(),
                    self._dependent: dependent,
                    self._prerequisite: prerequisite,
                    self._edges.c.created_at: utcnow(),
                }
            )
            .returning(*self._columns)
        ).one()
        return self._model(*row)

    def remove(self, conn: Connection, dependent: str, prerequisite: str) -> None:
        """Delete the edge; ``NotFoundError`` for an unknown end or a missing edge."""
        removed = conn.execute(
            delete(self._edges)
            .where(self._edge(dependent, prerequisite))
            .returning(self._edges.c.id)
        ).first()
        if removed is None:
            require_row(conn, self._nodes, self.kind, dependent)
            require_row(conn, self._nodes, self.kind, prerequisite)
            raise NotFoundError(
                f"{self.kind} dependency",
                f"{dependent} -> {prerequisite}",
                f"{self.kind} '{dependent}' does not depend on {self.kind} '{prerequisite}'",
            )

    def prerequisites_of(self, nodes_query: Select[Any], node_id: str) -> Select[Any]:
        """``nodes_query`` narrowed to the nodes ``node_id`` waits for."""
        joined = nodes_query.join(self._edges, self._prerequisite == self._nodes.c.id)
        return joined.where(self._dependent == node_id)

    def dependents_of(self, nodes_query: Select[Any], node_id: str) -> Select[Any]:
        """``nodes_query`` narrowed to the nodes waiting for ``node_id``."""
        joined = nodes_query.join(self._edges, self._dependent == self._nodes.c.id)
        return joined.where(self._prerequisite == node_id)

    def _edge(self, dependent: str, prerequisite: str) -> ColumnElement[bool]:
        return (self._dependent == dependent) & (self._prerequisite == prerequisite)


# --- the task adapter -------------------------------------------------------------

_COLUMNS = columns_for(tasks, Task)
_SELECT = select(*_COLUMNS)
# The hot path's statement (``_prepared.HotStatement``): asking by task or by an agent
# that works one reads the task.
BY_ID = HotStatement(_SELECT.where(tasks.c.id == bindparam("id")))
_DEPENDENCIES = DependencyEdges("task", tasks, task_dependencies, TaskDependency)

_PRIORITY_RANK = case(
    {TaskPriority.HIGH: 0, TaskPriority.MEDIUM: 1, TaskPriority.LOW: 2},
    value=_t.priority,
    else_=3,
)
# Siblings (a phase's tasks, a task's subtasks) read in their planned order.
_PLANNED_ORDER = (_t.order, _t.created_at, _t.id)
_CREATION_ORDER = (_t.created_at, _t.id)


def _describe(initiative_id: str | None) -> str:
    return "no initiative" if initiative_id is None else f"initiative '{initiative_id}'"


class SqlAlchemyTaskRepository(SqlAlchemyRepository):
    """Tasks.

    Consistency rule: a task, its phase and its parent task belong to the same
    initiative. ``create`` fills a missing initiative from the phase, else from
    the parent; updates that would break the rule are ``InvalidInputError``.
    Finders return an empty list for unknown ids; ``get``, ``update``,
    ``delete`` and the dependency writes raise ``NotFoundError``.
    """

    kind = "task"

    def create(self, data: NewTask) -> Task:
        """Insert with the status given (``pending`` unless told otherwise)."""
        now = utcnow()
        values = {name: getattr(data, name) for name in field_names(NewTask)}
        with self._write() as conn:
            values["initiative_id"] = self._resolve_initiative(conn, data)
            row = conn.execute(
                insert(tasks)
                .values(**values, id=new_id(), created_at=now, updated_at=now)
                .returning(*_COLUMNS)
            ).one()
        return Task(*row)

    def _resolve_initiative(self, conn: Connection, data: NewTask) -> str | None:
        initiative_id = data.initiative_id
        if initiative_id is not None:
            require_row(conn, initiatives, "initiative", initiative_id)
        if data.phase_id is not None:
            phase_initiative = self._phase_initiative(conn, data.phase_id)
            if initiative_id is None:
                initiative_id = phase_initiative
            elif phase_initiative != initiative_id:
                raise InvalidInputError(
                    f"phase '{data.phase_id}' belongs to {_describe(phase_initiative)}, "
                    f"not {_describe(initiative_id)}",
                    field="phase_id",
                )
        if data.parent_task_id is not None:
            parent = self._require(conn, data.parent_task_id)
            if initiative_id is None and data.phase_id is None:
                initiative_id = parent.initiative_id
            self._check_same_initiative(parent, initiative_id)
        return initiative_id

    def find_by_id(self, id: str) -> Task | None:
        found = self._select(Task, BY_ID, {"id": id})
        return found[0] if found else None

    def get(self, id: str) -> Task:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_by_ref(self, ref: str, limit: int) -> list[Task]:
        return self._find_by_ref(tasks, Task, ref, limit)

    def find_all(self) -> list[Task]:
        return self._find(_SELECT.order_by(*_CREATION_ORDER))

    def find_by_ids(self, ids: Collection[str]) -> list[Task]:
        if not ids:
            return []
        return self._find(_SELECT.where(_t.id.in_(list(ids))).order_by(*_CREATION_ORDER))

    def find_by_parent_task_id(self, parent_task_id: str) -> list[Task]:
        return self._find(
            _SELECT.where(_t.parent_task_id == parent_task_id).order_by(*_PLANNED_ORDER)
        )

    def find_by_phase_id(self, phase_id: str) -> list[Task]:
        return self._find(_SELECT.where(_t.phase_id == phase_id).order_by(*_PLANNED_ORDER))

    def find_by_initiative_id(self, initiative_id: str) -> list[Task]:
        return self._find(
            _SELECT.where(_t.initiative_id == initiative_id).order_by(*_PLANNED_ORDER)
        )

    def find_pending_approval(self, initiative_id: str | None = None) -> list[Task]:
        """Tasks waiting for a human's approval, oldest first."""
        query = _SELECT.where(_t.status == TaskStatus.PENDING_APPROVAL)
        if initiative_id is not None:
            query = query.where(_t.initiative_id == initiative_id)
        return self._find(query.order_by(*_CREATION_ORDER))

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
        query = _SELECT
        for column, value in (
            (_t.initiative_id, initiative_id),
            (_t.phase_id, phase_id),
            (_t.parent_task_id, parent_task_id),
            (_t.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            return paginate(conn, query, tasks, Task, limit=limit, cursor=cursor)

    def update(self, id: str, changes: TaskUpdate) -> Task:
        """Apply ``changes``; a new phase or parent must keep the task in its
        initiative, and a new parent must not make the task its own ancestor."""
        values = checked_changes(self.kind, changes, TaskUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            current = self._require(conn, id)
            if values.get("phase_id") is not None:
                self._check_phase_move(conn, current, values["phase_id"])
            if values.get("parent_task_id") is not None:
                self._check_parent_move(conn, current, values["parent_task_id"])
            return self._update_row(conn, tasks, Task, id, values)

    def _check_phase_move(self, conn: Connection, task: Task, phase_id: str) -> None:
        phase_initiative = self._phase_initiative(conn, phase_id)
        if phase_initiative != task.initiative_id:
            raise InvalidInputError(
                f"task '{task.id}' belongs to {_describe(task.initiative_id)}; "
                f"phase '{phase_id}' belongs to {_describe(phase_initiative)}",
                field="phase_id",
            )

    def _check_parent_move(self, conn: Connection, task: Task, parent_id: str) -> None:
        parent = self._require(conn, parent_id)
        self._check_same_initiative(parent, task.initiative_id)
        cycle = would_create_cycle(task.id, parent_id, lambda node: self._parent_of(conn, node))
        if cycle is not None:
            raise InvalidInputError(
                f"task '{task.id}' cannot become a subtask of '{parent_id}': it would be "
                f"its own ancestor ({format_path(cycle)})",
                field="parent_task_id",
            )

    def _check_same_initiative(self, parent: Task, initiative_id: str | None) -> None:
        if parent.initiative_id != initiative_id:
            raise InvalidInputError(
                f"parent task '{parent.id}' belongs to {_describe(parent.initiative_id)}, "
                f"not {_describe(initiative_id)}",
                field="parent_task_id",
            )

    def subtask_ids(self, id: str) -> list[str]:
        removed = removed_tasks(_t.id == id)
        query = select(removed.c.id).where(removed.c.id != id).order_by(removed.c.id)
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def delete(self, id: str) -> Removal:
        """Delete the task. The result counts ``tasks`` (its subtasks, recursively),
        ``taskDependencies`` (edges touching any removed task), ``agentsDetached``
        and ``conversationsDetached`` (rows whose ``task_id`` was nulled)."""
        with self._write() as conn:
            self._require(conn, id)
            removal = task_cascade_counts(conn, removed_tasks(_t.id == id))
            conn.execute(delete(tasks).where(_t.id == id))
        removal["tasks"] -= 1  # the task itself is not something that "went along"
        return removal

    # --- dependencies -------------------------------------------------------

    def lock_dependency_graph(self, initiative_id: str | None) -> None:
        """Until the unit of work ends, hold the initiative's dependency graph: two
        servers adding A->B and B->A at once check for a cycle one after the other
        (PostgreSQL advisory lock; on SQLite a unit of work begins IMMEDIATE, so
        writers are already serialised and this takes nothing)."""
        with self._write() as conn:
            serialize_on(conn, "task_dependencies", initiative_id)

    def find_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency | None:
        with self._read() as conn:
            return _DEPENDENCIES.find(conn, task_id, depends_on_task_id)

    def prerequisite_ids(self, task_id: str) -> list[str]:
        with self._read() as conn:
            return _DEPENDENCIES.prerequisite_ids(conn, task_id)

    def prerequisite_ids_of(self, task_ids: Collection[str]) -> dict[str, list[str]]:
        with self._read() as conn:
            return _DEPENDENCIES.prerequisite_ids_of(conn, task_ids)

    def create_dependency(self, task_id: str, depends_on_task_id: str) -> TaskDependency:
        with self._write() as conn:
            return _DEPENDENCIES.add(conn, task_id, depends_on_task_id)

    def remove_dependency(self, task_id: str, depends_on_task_id: str) -> None:
        with self._write() as conn:
            _DEPENDENCIES.remove(conn, task_id, depends_on_task_id)

    def get_dependencies(self, task_id: str) -> list[Task]:
        """The tasks ``task_id`` waits for."""
        query = _DEPENDENCIES.prerequisites_of(_SELECT, task_id)
        return self._find(query.order_by(*_CREATION_ORDER))

    def get_dependents(self, task_id: str) -> list[Task]:
        """The tasks waiting for ``task_id``."""
        query = _DEPENDENCIES.dependents_of(_SELECT, task_id)
        return self._find(query.order_by(*_CREATION_ORDER))

    # --- approval and scheduling ------------------------------------------------

    def requires_approval(self, task_id: str) -> bool:
        found = self.requires_approval_of([task_id])
        if task_id not in found:
            raise self._not_found(task_id)
        return found[task_id]

    def requires_approval_of(self, task_ids: Collection[str]) -> dict[str, bool]:
        if not task_ids:
            return {}
        effective = func.coalesce(
            _t.requires_approval, initiatives.c.merge_requires_approval, false()
        )
        query = (
            select(_t.id, effective)
            .select_from(tasks.outerjoin(initiatives, initiatives.c.id == _t.initiative_id))
            .where(_t.id.in_(list(task_ids)))
        )
        with self._read() as conn:
            return {id: bool(required) for id, required in conn.execute(query)}

    def transition(
        self, task_id: str, to: TaskStatus, *, expected: Sequence[TaskStatus] | None = None
    ) -> Task:
        """Move the task to ``to`` in one conditional UPDATE: only from a status in
        ``expected`` (any, when None), so of two racing moves exactly one wins; the
        loser gets ``PreconditionFailedError`` naming the status it found."""
        condition = _t.id == task_id
        if expected is not None:
            condition = condition & _t.status.in_(expected)
        with self._write() as conn:
            row = conn.execute(
                update(tasks)
                .where(condition)
                .values(status=to, updated_at=utcnow())
                .returning(*_COLUMNS)
            ).first()
            if row is not None:
                return Task(*row)
            current = self._require(conn, task_id)
        wanted = " or ".join(status.value for status in expected or ())
        raise PreconditionFailedError(f"task '{task_id}' is {current.status.value}, not {wanted}")

    def claim(self, task_id: str, *, max_in_progress: int | None = None) -> Task | None:
        """``pending`` -> ``in_progress`` for dispatch, in one conditional UPDATE: the
        task must still be pending and, with ``max_in_progress``, its initiative must
        have fewer agent tasks (checkpoints aside) in progress. None when another
        claimer won or the limit is reached. On SQLite the write lock is taken before
        the statement runs, so claimers (threads or servers on one file) queue."""
        condition = (_t.id == task_id) & (_t.status == TaskStatus.PENDING)
        if max_in_progress is not None:
            peer = tasks.alias("peer")
            running = (
                select(func.count())
                .select_from(peer)
                .where(
                    peer.c.initiative_id == _t.initiative_id,
                    peer.c.status == TaskStatus.IN_PROGRESS,
                    peer.c.type.not_in(CHECKPOINT_TASK_TYPES),
                )
                .scalar_subquery()
            )
            condition = condition & (running < max_in_progress)
        with self._write() as conn:
            if max_in_progress is not None:
                # The limit counts the initiative's other claims; under PostgreSQL's
                # read committed two claimers would each count before the other's
                # commit, so they take turns per initiative (nothing on SQLite).
                initiative_id = conn.execute(
                    select(_t.initiative_id).where(_t.id == task_id)
                ).scalar()
                serialize_on(conn, "task-claims", initiative_id)
            row = conn.execute(
                update(tasks)
                .where(condition)
                .values(status=TaskStatus.IN_PROGRESS, updated_at=utcnow())
                .returning(*_COLUMNS)
            ).first()
        return None if row is None else Task(*row)

    def find_ready(
        self, *, initiative_id: str | None = None, phase_id: str | None = None
    ) -> list[Task]:
        """Tasks that can start now: status ``pending``, no dependency that is not
        ``completed``, and no dependency of their phase on a phase that is not
        ``completed``; highest priority first, then ``order``, then creation.
        Approval gates the merge, not the start, so it plays no part here."""
        prerequisite = tasks.alias("prerequisite")
        unfinished_prerequisite = (
            select(_d.id)
            .join(prerequisite, prerequisite.c.id == _d.depends_on_task_id)
            .where(_d.task_id == _t.id, prerequisite.c.status != TaskStatus.COMPLETED)
            .exists()
        )
        prerequisite_phase = phases.alias("prerequisite_phase")
        unfinished_phase = (
            select(phase_dependencies.c.id)
            .join(
                prerequisite_phase,
                prerequisite_phase.c.id == phase_dependencies.c.depends_on_phase_id,
            )
            .where(
                phase_dependencies.c.phase_id == _t.phase_id,
                prerequisite_phase.c.status != PhaseStatus.COMPLETED,
            )
            .exists()
        )
        query = _SELECT.where(
            _t.status == TaskStatus.PENDING, ~unfinished_prerequisite, ~unfinished_phase
        )
        if initiative_id is not None:
            query = query.where(_t.initiative_id == initiative_id)
        if phase_id is not None:
            query = query.where(_t.phase_id == phase_id)
        return self._find(query.order_by(_PRIORITY_RANK, *_PLANNED_ORDER))

    # --- helpers ----------------------------------------------------------------

    def _find(self, query: Select[Any]) -> list[Task]:
        with self._read() as conn:
            return [Task(*row) for row in conn.execute(query)]

    def _require(self, conn: Connection, id: str) -> Task:
        row = conn.execute(_SELECT.where(_t.id == id)).first()
        if row is None:
            raise self._not_found(id)
        return Task(*row)

    def _phase_initiative(self, conn: Connection, phase_id: str) -> str:
        found = conn.execute(
            select(phases.c.initiative_id).where(phases.c.id == phase_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotFoundError("phase", phase_id)
        return str(found)

    def _parent_of(self, conn: Connection, task_id: str) -> list[str]:
        parent = conn.execute(
            select(_t.parent_task_id).where(_t.id == task_id)
        ).scalar_one_or_none()
        return [] if parent is None else [parent]
