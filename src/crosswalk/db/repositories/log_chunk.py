"""Port: raw agent output, kept after the agent is gone."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from crosswalk.domain.rows import LogChunk, NewLogChunk


class LogChunkRepository(Protocol):
    def insert_chunk(self, data: NewLogChunk) -> LogChunk: ...

    def insert_chunks(self, data: Sequence[NewLogChunk]) -> list[LogChunk]:
        """Several chunks, of one agent or many, in one write; each agent's in the order
        given, as if inserted one by one."""
        ...

    def find_by_agent_id(
        self,
        agent_id: str,
        *,
        session_number: int | None = None,
        after: datetime | None = None,
    ) -> list[LogChunk]:
        """Oldest first; with ``after``, only chunks written after that chunk's
        ``created_at`` (strictly increasing per agent)."""
        ...

    def delete_by_agent_id(self, agent_id: str) -> int: ...

    def get_session_count(self, agent_id: str) -> int:
        """How many sessions the agent has logged (its highest session number; 0 if none)."""
        ...

    def session_counts(self, agent_ids: Collection[str]) -> dict[str, int]:
        """``get_session_count`` of each of ``agent_ids``, in one read."""
        ...
