"""Port: agents."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Agent,
    AgentUpdate,
    LocatedAgent,
    NewAgent,
    Paged,
    Removal,
    Workers,
)


class AgentRepository(Protocol):
    def create(self, data: NewAgent) -> Agent:
        """Insert; without a name, pick a unique adjective-animal alias."""
        ...

    def find_by_id(self, id: str) -> Agent | None: ...

    def get(self, id: str) -> Agent: ...

    def find_all(self) -> list[Agent]: ...

    def find_by_name(self, name: str) -> Agent | None: ...

    def find_by_ids(self, ids: Collection[str]) -> list[Agent]:
        """The agents of ``ids`` that exist, oldest first (one read for a page's rows)."""
        ...

    def find_by_task_ids(self, task_ids: Collection[str]) -> list[Agent]:
        """The agents on any of ``task_ids``, most recently updated first."""
        ...

    def find_by_task_id(self, task_id: str) -> list[Agent]:
        """Agents on the task, most recently updated first."""
        ...

    def find_by_session_id(self, session_id: str) -> Agent | None: ...

    def find_by_status(self, status: AgentStatus) -> list[Agent]: ...

    def find_by_server_id(self, server_id: str) -> list[Agent]:
        """The agents server ``server_id`` runs (what it reconciles after a restart)."""
        ...

    def find_by_token_hash(self, token_hash: str) -> Agent | None: ...

    def find_active_by_task_id(self, task_id: str) -> list[Agent]:
        """Active agents (idle, running, waiting_for_input) on the task, most recently
        updated first."""
        ...

    # Asking a question reads one of these three, each one statement: who answers, and
    # what the question is filed under.

    def locate(self, id_or_name: str) -> LocatedAgent | None:
        """The agent with this id, else the one with this name, and where its task
        sits."""
        ...

    def workers_of_task(self, task_id: str) -> Workers | None:
        """The task's active agents (as ``find_active_by_task_id``) with the task's
        phase and initiative; None when there is no such task."""
        ...

    def workers_in_phase(self, phase_id: str) -> Workers | None:
        """The active agents whose task belongs to the phase, most recently updated
        first, with the phase and its initiative; None when there is no such phase."""
        ...

    def list_page(
        self,
        *,
        status: AgentStatus | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Agent]: ...

    def update(self, id: str, changes: AgentUpdate) -> Agent: ...

    def delete(self, id: str) -> Removal:
        """Delete; its conversations and proposals go with it, its messages are detached,
        its log chunks stay."""
        ...
