"""Port: raw agent output, kept after the agent is gone."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.rows import LogChunk, NewLogChunk


class LogChunkRepository(Protocol):
    def insert_chunk(self, data: NewLogChunk) -> LogChunk: ...

    def find_by_agent_id(
        self, agent_id: str, *, session_number: int | None = None
    ) -> list[LogChunk]:
        """Oldest first."""
        ...

    def delete_by_agent_id(self, agent_id: str) -> int: ...

    def get_session_count(self, agent_id: str) -> int:
        """How many sessions the agent has logged (its highest session number; 0 if none)."""
        ...
