"""Adapter: projects (git repositories) and their links to initiatives."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Select, delete, insert, select, update

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    count_where,
    paginate,
    require_row,
)
from crosswalk.db.schema import initiative_projects, initiatives, projects
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    InitiativeProjectsChange,
    NewProject,
    Paged,
    Project,
    ProjectPush,
    ProjectUpdate,
    PushUpdate,
    Removal,
)
from crosswalk.ids import new_id

_COLUMNS = columns_for(projects, Project)
_SELECT = select(*_COLUMNS)
_p = projects.c
_l = initiative_projects.c
_UNIQUE_FIELDS = ("name", "url")


class SqlAlchemyProjectRepository(SqlAlchemyRepository):
    """Projects. ``name`` and ``url`` are each unique; a taken one is
    ``ConflictError`` naming the field and its owner."""

    kind = "project"

    def create(self, data: NewProject) -> Project:
        now = self._clock.now()
        values = {"name": data.name, "url": data.url, "default_branch": data.default_branch}
        with self._write() as conn:
            self._refuse_taken(conn, values, owner=None)
            row = conn.execute(
                insert(projects)
                .values(**values, id=new_id(), created_at=now, updated_at=now)
                .returning(*_COLUMNS)
            ).one()
        return Project(*row)

    def _refuse_taken(self, conn: Connection, values: dict[str, Any], *, owner: str | None) -> None:
        for field in _UNIQUE_FIELDS:
            if field not in values:
                continue
            holder = conn.execute(
                select(_p.id).where(_p[field] == values[field])
            ).scalar_one_or_none()
            if holder is not None and holder != owner:
                raise ConflictError(
                    f"project {field} '{values[field]}' is already used by project '{holder}'"
                )

    def find_by_id(self, id: str) -> Project | None:
        return self._find_one(_SELECT.where(_p.id == id))

    def get(self, id: str) -> Project:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_by_name(self, name: str) -> Project | None:
        return self._find_one(_SELECT.where(_p.name == name))

    def find_all(self) -> list[Project]:
        """By name: projects are picked by humans from this list."""
        return self._find(_SELECT.order_by(_p.name, _p.id))

    def list_page(
        self, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None
    ) -> Paged[Project]:
        with self._read() as conn:
            return paginate(conn, _SELECT, projects, Project, limit=limit, cursor=cursor)

    def update(self, id: str, changes: ProjectUpdate) -> Project:
        values = checked_changes(self.kind, changes, ProjectUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            self._refuse_taken(conn, values, owner=id)
            return self._update_row(conn, projects, Project, id, values)

    def delete(self, id: str) -> Removal:
        """Delete the project; ``initiativeProjects`` counts the links removed with it
        (the initiatives stay)."""
        with self._write() as conn:
            require_row(conn, projects, self.kind, id)
            links = count_where(conn, initiative_projects, _l.project_id == id)
            conn.execute(delete(projects).where(_p.id == id))
        return {"initiativeProjects": links}

    # --- links to initiatives -----------------------------------------------------

    def set_initiative_projects(
        self, initiative_id: str, project_ids: Iterable[str]
    ) -> InitiativeProjectsChange:
        """Make the initiative's projects exactly ``project_ids``, all or nothing.

        Every id is checked before anything is written (an unknown initiative or
        project is ``NotFoundError`` naming it). Only the difference is written:
        links to keep are not touched, so they keep their id and ``created_at``.
        ``added`` and ``project_ids`` follow the order given (duplicates dropped);
        ``removed`` is by link creation time, then id.
        """
        wanted = list(dict.fromkeys(project_ids))
        with self._write() as conn:
            require_row(conn, initiatives, "initiative", initiative_id)
            self._require_projects(conn, wanted)
            linked = list(
                conn.execute(
                    select(_l.project_id)
                    .where(_l.initiative_id == initiative_id)
                    .order_by(_l.created_at, _l.id)
                ).scalars()
            )
            added = [id for id in wanted if id not in linked]
            removed = [id for id in linked if id not in wanted]
            if removed:
                conn.execute(
                    delete(initiative_projects).where(
                        _l.initiative_id == initiative_id, _l.project_id.in_(removed)
                    )
                )
            if added:
                now = self._clock.now()
                conn.execute(
                    insert(initiative_projects),
                    [
                        {
                            "id": new_id(),
                            "initiative_id": initiative_id,
                            "project_id": id,
                            "created_at": now,
                        }
                        for id in added
                    ],
                )
        return InitiativeProjectsChange(
            added=tuple(added), removed=tuple(removed), project_ids=tuple(wanted)
        )

    def _require_projects(self, conn: Connection, project_ids: list[str]) -> None:
        if not project_ids:
            return
        found = set(conn.execute(select(_p.id).where(_p.id.in_(project_ids))).scalars())
        missing = [id for id in project_ids if id not in found]
        if missing:
            raise NotFoundError(self.kind, missing[0])

    def add_project_to_initiative(self, initiative_id: str, project_id: str) -> None:
        """Link the project; linking it again is a no-op (the link is a set member)."""
        with self._write() as conn:
            require_row(conn, initiatives, "initiative", initiative_id)
            require_row(conn, projects, self.kind, project_id)
            if self._link_exists(conn, initiative_id, project_id):
                return
            conn.execute(
                insert(initiative_projects).values(
                    id=new_id(),
                    initiative_id=initiative_id,
                    project_id=project_id,
                    created_at=self._clock.now(),
                )
            )

    def remove_project_from_initiative(self, initiative_id: str, project_id: str) -> None:
        """Unlink the project; ``NotFoundError`` when it was not linked."""
        with self._write() as conn:
            removed = conn.execute(
                delete(initiative_projects)
                .where(_l.initiative_id == initiative_id, _l.project_id == project_id)
                .returning(_l.id)
            ).first()
        if removed is None:
            raise NotFoundError(
                self.kind,
                project_id,
                f"project '{project_id}' is not linked to initiative '{initiative_id}'",
            )

    def find_projects_by_initiative_id(self, initiative_id: str) -> list[Project]:
        """The initiative's projects by name."""
        query = (
            _SELECT.join(initiative_projects, _l.project_id == _p.id)
            .where(_l.initiative_id == initiative_id)
            .order_by(_p.name, _p.id)
        )
        return self._find(query)

    def find_pushes(self, initiative_id: str) -> list[ProjectPush]:
        query = (
            select(
                _l.initiative_id,
                _l.project_id,
                _p.name,
                _p.url,
                _l.pushed_commit,
                _l.pushed_at,
                _l.push_error,
            )
            .join(projects, _l.project_id == _p.id)
            .where(_l.initiative_id == initiative_id)
            .order_by(_p.name, _p.id)
        )
        with self._read() as conn:
            return [ProjectPush(*row) for row in conn.execute(query)]

    def record_push(self, initiative_id: str, project_id: str, changes: PushUpdate) -> None:
        with self._write() as conn:
            done = conn.execute(
                update(initiative_projects)
                .where(_l.initiative_id == initiative_id, _l.project_id == project_id)
                .values(**changes)
                .returning(_l.id)
            ).first()
        if done is None:
            raise NotFoundError(
                self.kind,
                project_id,
                f"project '{project_id}' is not linked to initiative '{initiative_id}'",
            )

    # --- helpers ----------------------------------------------------------------

    def _link_exists(self, conn: Connection, initiative_id: str, project_id: str) -> bool:
        query = select(_l.id).where(_l.initiative_id == initiative_id, _l.project_id == project_id)
        return conn.execute(query).first() is not None

    def _find(self, query: Select[Any]) -> list[Project]:
        with self._read() as conn:
            return [Project(*row) for row in conn.execute(query)]

    def _find_one(self, query: Select[Any]) -> Project | None:
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else Project(*row)
