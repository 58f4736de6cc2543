"""Agent output logs: chunks appended in sessions. Appending records
``LogChunkAppended`` (key ``logs:<agentId>``), so a log can be followed live."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crosswalk.db.repositories import LogChunkRepository
from crosswalk.domain.events import Action, EntityChanged, LogChunkAppended
from crosswalk.domain.rows import Agent, LogChunk, NewLogChunk
from crosswalk.services.unit_of_work import UnitOfWorkFactory


@dataclass(slots=True)
class LogService:
    log_chunks: LogChunkRepository
    unit_of_work: UnitOfWorkFactory

    def append(self, agent: Agent, content: str, session_number: int | None) -> LogChunk:
        """A chunk under the agent's current name. Without ``session_number`` it joins
        the agent's latest session (1 for its first chunk)."""
        with self.unit_of_work() as uow:
            session = session_number or max(self.log_chunks.get_session_count(agent.id), 1)
            chunk = self.log_chunks.insert_chunk(
                NewLogChunk(
                    agent_id=agent.id,
                    agent_name=agent.name,
                    content=content,
                    session_number=session,
                )
            )
            uow.record(LogChunkAppended(agent.id, chunk.id, chunk.session_number))
        return chunk

    def append_many(self, chunks: Sequence[tuple[Agent, str, int]]) -> list[LogChunk]:
        """Chunks of several agents, ``(agent, content, session_number)`` each, in one
        unit of work: the runner stores what all its agents wrote in one tick at once."""
        with self.unit_of_work() as uow:
            stored = self.log_chunks.insert_chunks(
                [
                    NewLogChunk(
                        agent_id=agent.id,
                        agent_name=agent.name,
                        content=content,
                        session_number=session,
                    )
                    for agent, content, session in chunks
                ]
            )
            for chunk in stored:
                uow.record(LogChunkAppended(chunk.agent_id, chunk.id))
        return stored

    def delete_for_agent(self, agent_id: str) -> int:
        with self.unit_of_work() as uow:
            deleted = self.log_chunks.delete_by_agent_id(agent_id)
            if deleted:
                uow.record(EntityChanged("agentLog", agent_id, Action.DELETED))
        return deleted
