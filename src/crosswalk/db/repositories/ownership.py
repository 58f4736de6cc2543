"""Port: the ownership index (which agent's work changed which file), the overlap
notices the agents' hooks deliver, and the merge previews of pairs of agents' work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from crosswalk.domain.rows import FileChange, FileOwner, MergePreview, Overlap, OverlapNotice


class OwnershipRepository(Protocol):
    def owners(self, path: str, *, initiative_id: str | None) -> list[FileOwner]:
        """The agents whose work changed ``path`` (in ``initiative_id``; None: in any),
        unmerged and merged, the most recently changed first: one indexed statement."""
        ...

    def changes_of(self, agent_id: str, *, merged: bool) -> list[FileChange]:
        """The agent's unmerged (or merged) changes, by path."""
        ...

    def replace_changes(
        self, agent_id: str, *, merged: bool, changes: Sequence[FileChange]
    ) -> None:
        """Make ``changes`` the agent's whole set of unmerged (or merged) changes."""
        ...

    def overlaps(self, initiative_id: str) -> list[Overlap]:
        """The files the unmerged work of more than one agent changed, by path."""
        ...

    def add_notices(self, notices: Sequence[OverlapNotice]) -> list[OverlapNotice]:
        """Store the notices not stored before (one per agent, other agent and path);
        return those."""
        ...

    def undelivered_notices(self, agent_id: str) -> list[OverlapNotice]:
        """The agent's notices not delivered yet, oldest first."""
        ...

    def mark_notices_delivered(
        self, agent_id: str, keys: Sequence[tuple[str, str]], at: datetime
    ) -> int:
        """Record the delivery of the agent's notices ``(other agent id, path)`` not
        delivered before; return how many."""
        ...

    def save_preview(self, preview: MergePreview) -> None:
        """Store (or replace) the preview of the pair."""
        ...

    def previews(self, initiative_id: str) -> list[MergePreview]:
        """The initiative's merge previews, by pair."""
        ...

    def drop_previews(self, agent_id: str) -> int:
        """Forget every preview of a pair the agent is in; return how many."""
        ...
