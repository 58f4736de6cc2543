"""Port: the runs of idle agents resumed to answer the questions waiting for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from crosswalk.domain.rows import AnsweringRun, NewAnsweringRun


class AnsweringRunRepository(Protocol):
    def start(self, data: NewAnsweringRun) -> AnsweringRun:
        """A new run, started now (``ended_at`` None). Unknown agent: ``NotFoundError``."""
        ...

    def finish(self, id: str, outcome: str, left_changes: Sequence[str] | None) -> AnsweringRun:
        """The run ended now, with ``outcome`` (and the paths it left changed). Unknown
        id: ``NotFoundError``; a run ended already keeps its first end (returned)."""
        ...

    def find_open(self, agent_id: str | None = None) -> list[AnsweringRun]:
        """Runs not ended yet (of ``agent_id`` when given), oldest first."""
        ...

    def find_by_agent(self, agent_id: str, *, limit: int = 20) -> list[AnsweringRun]:
        """The agent's runs, newest first, at most ``limit``."""
        ...
