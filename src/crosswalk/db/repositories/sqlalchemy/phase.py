"""Adapter: phases and the dependencies between phases of one initiative."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, insert, or_, select

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
from crosswalk.db.repositories.sqlalchemy.task import (
    DependencyEdges,
    removed_tasks,
    task_cascade_counts,
)
from crosswalk.db.schema import conversations, initiatives, phase_dependencies, phases
from crosswalk.db.schema import tasks as tasks_table
from crosswalk.domain.enums import PhaseStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    NewPhase,
    Paged,
    Phase,
    PhaseDependency,
    PhaseUpdate,
    Removal,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

_COLUMNS = columns_for(phases, Phase)
_SELECT = select(*_COLUMNS)
# The hot path's statement (``_prepared.HotStatement``): asking by phase reads the phase.
BY_ID = HotStatement(_SELECT.where(phases.c.id == bindparam("id")))
_DEPENDENCIES = DependencyEdges("phase", phases, phase_dependencies, PhaseDependency)
_p = phases.c
_d = phase_dependencies.c
_CREATION_ORDER = (_p.created_at, _p.id)


class SqlAlchemyPhaseRepository(SqlAlchemyRepository):
    """Phases. Finders return an empty list for unknown ids; ``get``, ``update``,
    ``delete`` and the dependency writes raise ``NotFoundError``."""

    kind = "phase"

    def create(self, data: NewPhase) -> Phase:
        now = utcnow()
        values = {name: getattr(data, name) for name in field_names(NewPhase)}
        with self._write() as conn:
            require_row(conn, initiatives, "initiative", data.initiative_id)
            row = conn.execute(
                insert(phases)
                .values(**values, id=new_id(), created_at=now, updated_at=now)
                .returning(*_COLUMNS)
            ).one()
        return Phase(*row)

    def find_by_id(self, id: str) -> Phase | None:
        found = self._select(Phase, BY_ID, {"id": id})
        return found[0] if found else None

    def get(self, id: str) -> Phase:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_by_ref(self, ref: str, limit: int) -> list[Phase]:
        return self._find_by_ref(phases, Phase, ref, limit)

    def find_all(self) -> list[Phase]:
        return self._find(_SELECT.order_by(*_CREATION_ORDER))

    def find_by_ids(self, ids: Collection[str]) -> list[Phase]:
        if not ids:
            return []
        return self._find(_SELECT.where(_p.id.in_(list(ids))).order_by(*_CREATION_ORDER))

    def find_by_initiative_id(self, initiative_id: str) -> list[Phase]:
        """The initiative's phases in the order they were created."""
        return self._find(
            _SELECT.where(_p.initiative_id == initiative_id).order_by(*_CREATION_ORDER)
        )

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        status: PhaseStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Phase]:
        query = _SELECT
        if initiative_id is not None:
            query = query.where(_p.initiative_id == initiative_id)
        if status is not None:
            query = query.where(_p.status == status)
        with self._read() as conn:
            return paginate(conn, query, phases, Phase, limit=limit, cursor=cursor)

    def update(self, id: str, changes: PhaseUpdate) -> Phase:
        values = checked_changes(self.kind, changes, PhaseUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            return self._update_row(conn, phases, Phase, id, values)

    def delete(self, id: str) -> Removal:
        """Delete the phase. The result counts ``tasks`` (its tasks and their
        subtasks), ``phaseDependencies`` (edges from or to it), ``taskDependencies``,
        ``agentsDetached`` and ``conversationsDetached`` (references nulled)."""
        with self._write() as conn:
            self._require(conn, id)
            removal = task_cascade_counts(
                conn,
                removed_tasks(tasks_table.c.phase_id == id),
                conversations_also=conversations.c.phase_id == id,
            )
            removal["phaseDependencies"] = count_where(
                conn, phase_dependencies, or_(_d.phase_id == id, _d.depends_on_phase_id == id)
            )
            conn.execute(delete(phases).where(_p.id == id))
        return removal

    # --- dependencies -------------------------------------------------------

    def lock_dependency_graph(self, initiative_id: str) -> None:
        """Until the unit of work ends, hold the initiative's dependency graph: two
        servers adding A->B and B->A at once check for a cycle one after the other
        (PostgreSQL advisory lock; on SQLite a unit of work begins IMMEDIATE, so
        writers are already serialised and this takes nothing)."""
        with self._write() as conn:
            serialize_on(conn, "phase_dependencies", initiative_id)

    def find_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency | None:
        with self._read() as conn:
            return _DEPENDENCIES.find(conn, phase_id, depends_on_phase_id)

    def prerequisite_ids(self, phase_id: str) -> list[str]:
        with self._read() as conn:
            return _DEPENDENCIES.prerequisite_ids(conn, phase_id)

    def prerequisite_ids_of(self, phase_ids: Collection[str]) -> dict[str, list[str]]:
        with self._read() as conn:
            return _DEPENDENCIES.prerequisite_ids_of(conn, phase_ids)

    def create_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency:
        with self._write() as conn:
            return _DEPENDENCIES.add(conn, phase_id, depends_on_phase_id)

    def remove_dependency(self, phase_id: str, depends_on_phase_id: str) -> None:
        with self._write() as conn:
            _DEPENDENCIES.remove(conn, phase_id, depends_on_phase_id)

    def get_dependencies(self, phase_id: str) -> list[Phase]:
        query = _DEPENDENCIES.prerequisites_of(_SELECT, phase_id)
        return self._find(query.order_by(*_CREATION_ORDER))

    def get_dependents(self, phase_id: str) -> list[Phase]:
        query = _DEPENDENCIES.dependents_of(_SELECT, phase_id)
        return self._find(query.order_by(*_CREATION_ORDER))

    # --- helpers ----------------------------------------------------------------

    def _find(self, query: Select[Any]) -> list[Phase]:
        with self._read() as conn:
            return [Phase(*row) for row in conn.execute(query)]

    def _require(self, conn: Connection, id: str) -> Phase:
        row = conn.execute(_SELECT.where(_p.id == id)).first()
        if row is None:
            raise self._not_found(id)
        return Phase(*row)
