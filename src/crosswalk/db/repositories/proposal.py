"""Port: proposals agents make for pages, phases and tasks."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.enums import ProposalStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    NewProposal,
    Paged,
    Proposal,
    ProposalUpdate,
    Removal,
)


class ProposalRepository(Protocol):
    def create(self, data: NewProposal) -> Proposal: ...

    def find_by_id(self, id: str) -> Proposal | None: ...

    def get(self, id: str) -> Proposal: ...

    def find_all(self) -> list[Proposal]:
        """By ``sort_order`` then creation (as every finder here)."""
        ...

    def find_by_initiative_id(self, initiative_id: str) -> list[Proposal]: ...

    def find_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> list[Proposal]:
        """By ``sort_order`` then creation."""
        ...

    def count_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> int: ...

    def list_page(
        self,
        *,
        agent_id: str | None = None,
        initiative_id: str | None = None,
        status: ProposalStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Proposal]: ...

    def update(self, id: str, changes: ProposalUpdate) -> Proposal: ...

    def update_many_by_agent_id(
        self,
        agent_id: str,
        changes: ProposalUpdate,
        *,
        status: ProposalStatus | None = None,
    ) -> list[str]:
        """Apply ``changes`` to the agent's proposals (only those in ``status`` if given);
        returns the ids of the rows changed (sorted)."""
        ...

    def delete(self, id: str) -> Removal: ...
