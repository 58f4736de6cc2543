"""Adapter: initiatives, each with its own git branch ``cw/<slug>``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, delete, insert, or_, select

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    count_where,
    paginate,
)
from crosswalk.db.repositories.sqlalchemy.task import removed_tasks, task_cascade_counts
from crosswalk.db.schema import (
    agents,
    conversations,
    initiative_projects,
    initiatives,
    pages,
    phase_dependencies,
    phases,
    proposals,
    tasks,
)
from crosswalk.domain.enums import InitiativeStatus
from crosswalk.domain.errors import ConflictError, InvalidInputError
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Initiative,
    InitiativeUpdate,
    NewInitiative,
    Paged,
    Removal,
)
from crosswalk.domain.slug import slugify
from crosswalk.ids import new_id

BRANCH_PREFIX = "cw/"
# The slug of a name with no ASCII letters or digits at all (e.g. only emoji).
FALLBACK_SLUG = "initiative"

_COLUMNS = columns_for(initiatives, Initiative)
_SELECT = select(*_COLUMNS)
_i = initiatives.c
_CREATION_ORDER = (_i.created_at, _i.id)


class SqlAlchemyInitiativeRepository(SqlAlchemyRepository):
    kind = "initiative"

    def create(self, data: NewInitiative) -> Initiative:
        """Insert. Without a branch the initiative gets ``cw/<slug of name>``, or
        ``cw/<slug>-2``, ``-3``... when taken; a given branch that another
        initiative uses is ``ConflictError``. Both happen in the write transaction
        that inserts, so two creators cannot pick the same branch."""
        now = self._clock.now()
        with self._write() as conn:
            if data.branch is None:
                branch = self._free_branch(conn, data.name)
            else:
                branch = self._check_branch(conn, data.branch, owner=None)
            row = conn.execute(
                insert(initiatives)
                .values(
                    id=new_id(),
                    name=data.name,
                    status=data.status,
                    merge_requires_approval=data.merge_requires_approval,
                    branch=branch,
                    auto_push=data.auto_push,
                    created_at=now,
                    updated_at=now,
                )
                .returning(*_COLUMNS)
            ).one()
        return Initiative(*row)

    def _free_branch(self, conn: Connection, name: str) -> str:
        # ``name or ""``: a missing name is the database's to refuse (NOT NULL).
        base = f"{BRANCH_PREFIX}{slugify(name or '') or FALLBACK_SLUG}"
        taken = set(
            conn.execute(
                select(_i.branch).where(_i.branch.startswith(base, autoescape=True))
            ).scalars()
        )
        if base not in taken:
            return base
        suffix = 2
        while f"{base}-{suffix}" in taken:
            suffix += 1
        return f"{base}-{suffix}"

    def _check_branch(self, conn: Connection, branch: str, *, owner: str | None) -> str:
        if not branch.strip():
            raise InvalidInputError("branch must not be empty", field="branch")
        holder = conn.execute(select(_i.id).where(_i.branch == branch)).scalar_one_or_none()
        if holder is not None and holder != owner:
            raise ConflictError(f"branch '{branch}' is already used by initiative '{holder}'")
        return branch

    def find_by_id(self, id: str) -> Initiative | None:
        with self._read() as conn:
            row = conn.execute(_SELECT.where(_i.id == id)).first()
        return None if row is None else Initiative(*row)

    def get(self, id: str) -> Initiative:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_by_ref(self, ref: str, limit: int) -> list[Initiative]:
        return self._find_by_ref(initiatives, Initiative, ref, limit)

    def find_all(self) -> list[Initiative]:
        return self._find(_SELECT.order_by(*_CREATION_ORDER))

    def find_by_status(self, status: InitiativeStatus) -> list[Initiative]:
        return self._find(_SELECT.where(_i.status == status).order_by(*_CREATION_ORDER))

    def list_page(
        self,
        *,
        status: InitiativeStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Initiative]:
        query = _SELECT if status is None else _SELECT.where(_i.status == status)
        with self._read() as conn:
            return paginate(conn, query, initiatives, Initiative, limit=limit, cursor=cursor)

    def update(self, id: str, changes: InitiativeUpdate) -> Initiative:
        """Apply ``changes``; a branch another initiative uses is ``ConflictError``
        (``branch: None`` clears it, nothing is derived on update)."""
        values = checked_changes(self.kind, changes, InitiativeUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            if values.get("branch") is not None:
                self._check_branch(conn, values["branch"], owner=id)
            return self._update_row(conn, initiatives, Initiative, id, values)

    def delete(self, id: str) -> Removal:
        """Delete the initiative; the database's ON DELETE does the rest.

        The result counts, for every table the delete reaches: ``phases``,
        ``phaseDependencies``, ``tasks`` (the initiative's and its phases' tasks
        with all subtasks), ``taskDependencies``, ``pages``, ``proposals``,
        ``initiativeProjects`` (links; the projects stay), and the rows whose
        reference is nulled: ``agentsDetached`` (on the initiative or one of its
        tasks) and ``conversationsDetached`` (about the initiative, one of its
        phases or tasks). Every key is always present.
        """
        phase_ids = select(phases.c.id).where(phases.c.initiative_id == id)
        with self._write() as conn:
            if conn.execute(select(_i.id).where(_i.id == id)).first() is None:
                raise self._not_found(id)
            removal = task_cascade_counts(
                conn,
                removed_tasks(or_(tasks.c.initiative_id == id, tasks.c.phase_id.in_(phase_ids))),
                agents_also=agents.c.initiative_id == id,
                conversations_also=or_(
                    conversations.c.initiative_id == id, conversations.c.phase_id.in_(phase_ids)
                ),
            )
            removal |= self._owned_counts(conn, id, phase_ids)
            conn.execute(delete(initiatives).where(_i.id == id))
        return removal

    def _owned_counts(self, conn: Connection, id: str, phase_ids: Select[Any]) -> Removal:
        dependency = phase_dependencies.c
        return {
            "phases": count_where(conn, phases, phases.c.initiative_id == id),
            "phaseDependencies": count_where(
                conn,
                phase_dependencies,
                or_(
                    dependency.phase_id.in_(phase_ids),
                    dependency.depends_on_phase_id.in_(phase_ids),
                ),
            ),
            "pages": count_where(conn, pages, pages.c.initiative_id == id),
            "proposals": count_where(conn, proposals, proposals.c.initiative_id == id),
            "initiativeProjects": count_where(
                conn, initiative_projects, initiative_projects.c.initiative_id == id
            ),
        }

    def _find(self, query: Select[Any]) -> list[Initiative]:
        with self._read() as conn:
            return [Initiative(*row) for row in conn.execute(query)]
