"""Port: the runs (sessions) of agents' processes and what each cost."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.rows import AgentRun, AgentRunEnd, NewAgentRun


class AgentRunRepository(Protocol):
    def start(self, data: NewAgentRun) -> AgentRun:
        """Insert the run; a run already stored for the agent's session is returned as
        it is (a server that adopts a run after a restart starts it again)."""
        ...

    def finish(self, agent_id: str, session_number: int, end: AgentRunEnd) -> AgentRun | None:
        """Record how the session's run ended; None when no such run is stored."""
        ...

    def find(
        self,
        *,
        agent_id: str | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
    ) -> list[AgentRun]:
        """The runs matching every filter given (all without one), oldest first."""
        ...
