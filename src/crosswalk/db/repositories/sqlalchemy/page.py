"""Adapter: pages, one tree per initiative under exactly one root page.

"Exactly one root" is the partial unique index ``ux_pages_root_per_initiative``
(initiative_id WHERE parent_page_id IS NULL); the checks here only give the
friendly message, the index is what holds under concurrency.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, delete, func, insert, select

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    field_names,
    paginate,
)
from crosswalk.db.schema import initiatives, pages
from crosswalk.domain.dependency_graph import format_path, would_create_cycle
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, NewPage, Page, Paged, PageUpdate, Removal
from crosswalk.ids import new_id

_COLUMNS = columns_for(pages, Page)
_SELECT = select(*_COLUMNS)
_p = pages.c
_CREATION_ORDER = (_p.created_at, _p.id)
_SIBLING_ORDER = (_p.sort_order, _p.created_at, _p.id)


class SqlAlchemyPageRepository(SqlAlchemyRepository):
    """Pages. A child page lives in its parent's initiative; finders return an
    empty list for unknown ids; ``get``, ``update``, ``delete`` raise ``NotFoundError``."""

    kind = "page"

    def create(self, data: NewPage) -> Page:
        """Insert. Without a parent the page is the initiative's root, which is
        ``ConflictError`` when the initiative already has one."""
        now = self._clock.now()
        values = {name: getattr(data, name) for name in field_names(NewPage)}
        with self._write() as conn:
            self._require_initiative(conn, data.initiative_id)
            if data.parent_page_id is None:
                self._refuse_second_root(conn, data.initiative_id, page_id=None)
            else:
                parent = self._require(conn, data.parent_page_id)
                self._check_same_initiative(parent, data.initiative_id)
            row = conn.execute(
                insert(pages)
                .values(**values, id=new_id(), created_at=now, updated_at=now)
                .returning(*_COLUMNS)
            ).one()
        return Page(*row)

    def find_by_id(self, id: str) -> Page | None:
        with self._read() as conn:
            row = conn.execute(_SELECT.where(_p.id == id)).first()
        return None if row is None else Page(*row)

    def get(self, id: str) -> Page:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_all(self) -> list[Page]:
        return self._find(_SELECT.order_by(*_CREATION_ORDER))

    def find_by_initiative_id(self, initiative_id: str) -> list[Page]:
        return self._find(
            _SELECT.where(_p.initiative_id == initiative_id).order_by(*_CREATION_ORDER)
        )

    def find_root_page(self, initiative_id: str) -> Page | None:
        with self._read() as conn:
            return self._root(conn, initiative_id)

    def get_or_create_root_page(self, initiative_id: str, title: str | None = None) -> Page:
        """The initiative's root page, created (titled ``title``, else the
        initiative's name) when missing.

        A racing caller may insert the root between our read and our insert (on
        databases that do not serialize writers as SQLite's ``BEGIN IMMEDIATE``
        does); the unique index then refuses ours, and we return theirs.
        """
        try:
            with self._write() as conn:
                root = self._root(conn, initiative_id)
                if root is not None:
                    return root
                name = self._require_initiative(conn, initiative_id)
                now = self._clock.now()
                row = conn.execute(
                    insert(pages)
                    .values(
                        id=new_id(),
                        initiative_id=initiative_id,
                        parent_page_id=None,
                        title=name if title is None else title,
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(*_COLUMNS)
                ).one()
            return Page(*row)
        except ConflictError:
            winner = self.find_root_page(initiative_id)
            if winner is None:
                raise
            return winner

    def find_by_parent_page_id(self, parent_page_id: str) -> list[Page]:
        """Children by ``sort_order``, then creation."""
        return self._find(
            _SELECT.where(_p.parent_page_id == parent_page_id).order_by(*_SIBLING_ORDER)
        )

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        parent_page_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Page]:
        query = _SELECT
        if initiative_id is not None:
            query = query.where(_p.initiative_id == initiative_id)
        if parent_page_id is not None:
            query = query.where(_p.parent_page_id == parent_page_id)
        with self._read() as conn:
            return paginate(conn, query, pages, Page, limit=limit, cursor=cursor)

    def update(self, id: str, changes: PageUpdate) -> Page:
        """Apply ``changes``. A new parent must be in the page's initiative and not
        below the page itself; detaching a page (parent None) makes it the root,
        which is ``ConflictError`` while another root exists."""
        values = checked_changes(self.kind, changes, PageUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            page = self._require(conn, id)
            if "parent_page_id" in values:
                self._check_move(conn, page, values["parent_page_id"])
            return self._update_row(conn, pages, Page, id, values)

    def _check_move(self, conn: Connection, page: Page, parent_id: str | None) -> None:
        if parent_id is None:
            self._refuse_second_root(conn, page.initiative_id, page_id=page.id)
            return
        parent = self._require(conn, parent_id)
        self._check_same_initiative(parent, page.initiative_id)
        cycle = would_create_cycle(page.id, parent_id, lambda node: self._parent_of(conn, node))
        if cycle is not None:
            raise InvalidInputError(
                f"page '{page.id}' cannot move under '{parent_id}': it would be its own "
                f"ancestor ({format_path(cycle)})",
                field="parent_page_id",
            )

    def delete(self, id: str) -> Removal:
        """Delete the page; ``pages`` counts its subpages, recursively, removed
        with it by ON DELETE CASCADE."""
        descendants = select(_p.id).where(_p.parent_page_id == id).cte("subpages", recursive=True)
        below = pages.alias("below")
        descendants = descendants.union(
            select(below.c.id).where(below.c.parent_page_id == descendants.c.id)
        )
        with self._write() as conn:
            self._require(conn, id)
            subpages = conn.execute(select(func.count()).select_from(descendants)).scalar_one()
            conn.execute(delete(pages).where(_p.id == id))
        return {"pages": int(subpages)}

    # --- helpers ----------------------------------------------------------------

    def _find(self, query: Select[Any]) -> list[Page]:
        with self._read() as conn:
            return [Page(*row) for row in conn.execute(query)]

    def _require(self, conn: Connection, id: str) -> Page:
        row = conn.execute(_SELECT.where(_p.id == id)).first()
        if row is None:
            raise self._not_found(id)
        return Page(*row)

    def _require_initiative(self, conn: Connection, initiative_id: str) -> str:
        """The initiative's name; ``NotFoundError`` naming the initiative if missing."""
        name = conn.execute(
            select(initiatives.c.name).where(initiatives.c.id == initiative_id)
        ).scalar_one_or_none()
        if name is None:
            raise NotFoundError("initiative", initiative_id)
        return str(name)

    def _root(self, conn: Connection, initiative_id: str) -> Page | None:
        row = conn.execute(
            _SELECT.where(_p.initiative_id == initiative_id, _p.parent_page_id.is_(None))
        ).first()
        return None if row is None else Page(*row)

    def _refuse_second_root(
        self, conn: Connection, initiative_id: str, *, page_id: str | None
    ) -> None:
        root = self._root(conn, initiative_id)
        if root is not None and root.id != page_id:
            raise ConflictError(f"initiative '{initiative_id}' already has a root page '{root.id}'")

    def _check_same_initiative(self, parent: Page, initiative_id: str) -> None:
        if parent.initiative_id != initiative_id:
            raise InvalidInputError(
                f"parent page '{parent.id}' belongs to initiative '{parent.initiative_id}', "
                f"not '{initiative_id}'",
                field="parent_page_id",
            )

    def _parent_of(self, conn: Connection, page_id: str) -> list[str]:
        parent = conn.execute(
            select(_p.parent_page_id).where(_p.id == page_id)
        ).scalar_one_or_none()
        return [] if parent is None else [parent]
