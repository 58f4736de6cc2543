"""Port: phases and their dependencies."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

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


class PhaseRepository(Protocol):
    def create(self, data: NewPhase) -> Phase: ...

    def find_by_id(self, id: str) -> Phase | None: ...

    def find_by_ref(self, ref: str, limit: int) -> list[Phase]:
        """At most ``limit`` phases: the one whose id is ``ref``, then those named
        ``ref``, then those whose id starts with ``ref`` (``domain.refs`` picks)."""
        ...

    def get(self, id: str) -> Phase: ...

    def find_all(self) -> list[Phase]: ...

    def find_by_ids(self, ids: Collection[str]) -> list[Phase]:
        """The phases of ``ids`` that exist, in creation order."""
        ...

    def find_by_initiative_id(self, initiative_id: str) -> list[Phase]: ...

    def list_page(
        self,
        *,
        initiative_id: str | None = None,
        status: PhaseStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Phase]: ...

    def update(self, id: str, changes: PhaseUpdate) -> Phase: ...

    def delete(self, id: str) -> Removal: ...

    def lock_dependency_graph(self, initiative_id: str) -> None:
        """Hold the initiative's dependency graph until the transaction ends, so two
        units of work cannot each add half of a cycle. Called by ``PlanningService``
        before it checks a new edge."""
        ...

    def find_dependency(
        self, phase_id: str, depends_on_phase_id: str
    ) -> PhaseDependency | None: ...

    def prerequisite_ids(self, phase_id: str) -> list[str]:
        """Ids of the phases ``phase_id`` waits for (empty for an unknown id)."""
        ...

    def create_dependency(self, phase_id: str, depends_on_phase_id: str) -> PhaseDependency:
        """Store the edge. An unknown phase is ``NotFoundError`` naming it; an edge already
        stored is ``ConflictError``. The rules (no cycle, one initiative) are
        ``PlanningService``'s."""
        ...

    def remove_dependency(self, phase_id: str, depends_on_phase_id: str) -> None: ...

    def prerequisite_ids_of(self, phase_ids: Collection[str]) -> dict[str, list[str]]:
        """Each of ``phase_ids`` with the ids of the phases it waits for (sorted; empty
        for one that waits for none)."""
        ...

    def get_dependencies(self, phase_id: str) -> list[Phase]:
        """The phases ``phase_id`` depends on."""
        ...

    def get_dependents(self, phase_id: str) -> list[Phase]:
        """The phases that depend on ``phase_id``."""
        ...
