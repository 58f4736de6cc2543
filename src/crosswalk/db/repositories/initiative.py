"""Port: initiatives."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.enums import InitiativeStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Initiative,
    InitiativeUpdate,
    NewInitiative,
    Paged,
    Removal,
)


class InitiativeRepository(Protocol):
    def create(self, data: NewInitiative) -> Initiative:
        """Insert; without a branch, derive a unique ``cw/<slug>`` from the name."""
        ...

    def find_by_id(self, id: str) -> Initiative | None: ...

    def find_by_ref(self, ref: str, limit: int) -> list[Initiative]:
        """At most ``limit`` initiatives: the one whose id is ``ref``, then those named
        ``ref``, then those whose id starts with ``ref`` (``domain.refs`` picks)."""
        ...

    def get(self, id: str) -> Initiative:
        """Like ``find_by_id`` but raises ``NotFoundError``."""
        ...

    def find_all(self) -> list[Initiative]: ...

    def find_by_status(self, status: InitiativeStatus) -> list[Initiative]: ...

    def list_page(
        self,
        *,
        status: InitiativeStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Initiative]: ...

    def update(self, id: str, changes: InitiativeUpdate) -> Initiative: ...

    def delete(self, id: str) -> Removal:
        """Delete; phases, tasks, pages, proposals go with it (counted in the result)."""
        ...
