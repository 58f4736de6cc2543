"""Port: pages, a tree per initiative under one root page."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, NewPage, Page, Paged, PageUpdate, Removal


class PageRepository(Protocol):
    def create(self, data: NewPage) -> Page:
        """Insert; a page without a parent is the root (``ConflictError`` if one exists)."""
        ...

    def find_by_id(self, id: str) -> Page | None: ...

    def get(self, id: str) -> Page: ...

    def find_all(self) -> list[Page]: ...

    def find_by_initiative_id(self, initiative_id: str) -> list[Page]: ...

    def find_root_page(self, initiative_id: str) -> Page | None: ...

    def get_or_create_root_page(self, initiative_id: str, title: str | None = None) -> Page:
        """The initiative's root page, created if missing; racing callers get the same one."""
        ...

    def find_by_parent_page_id(self, parent_page_id: str) -> list[Page]: ...

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        parent_page_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Page]: ...

    def update(self, id: str, changes: PageUpdate) -> Page:
        """Refuses to make a page its own ancestor."""
        ...

    def delete(self, id: str) -> Removal:
        """Delete; its subpages go with it."""
        ...
