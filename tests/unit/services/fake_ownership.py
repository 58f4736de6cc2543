"""The ``OwnershipRepository`` port in memory (the contract suite in
``tests/integration/contract/test_ownership_port.py`` holds it to the adapter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from crosswalk.domain.rows import FileChange, FileOwner, MergePreview, Overlap, OverlapNotice
from tests.unit.services.fakes import FakeAgents


class FakeOwnership:
    """Reads agents and their tasks from ``agents`` (for ``owners``)."""

    def __init__(self, agents: FakeAgents) -> None:
        self.agents = agents
        self.changes: dict[tuple[str, bool, str], FileChange] = {}
        self.notices: dict[tuple[str, str, str], OverlapNotice] = {}
        self.saved_previews: dict[tuple[str, str], MergePreview] = {}

    def owners(self, path: str, *, initiative_id: str | None) -> list[FileOwner]:
        found = []
        for change in self.changes.values():
            if change.path != path or initiative_id not in (None, change.initiative_id):
                continue
            agent = self.agents.rows.get(change.agent_id)
            if agent is None:
                continue
            task = self.agents.tasks.rows.get(change.task_id or "")
            found.append(
                FileOwner(
                    agent,
                    change,
                    task.name if task is not None else None,
                    task.phase_id if task is not None else None,
                )
            )
        found.sort(key=lambda o: (o.change.merged, o.change.agent_id))
        found.sort(key=lambda o: o.change.changed_at, reverse=True)
        return found

    def changes_of(self, agent_id: str, *, merged: bool) -> list[FileChange]:
        return sorted(
            (c for c in self.changes.values() if (c.agent_id, c.merged) == (agent_id, merged)),
            key=lambda c: c.path,
        )

    def replace_changes(
        self, agent_id: str, *, merged: bool, changes: Sequence[FileChange]
    ) -> None:
        for key in [key for key in self.changes if key[:2] == (agent_id, merged)]:
            del self.changes[key]
        for change in changes:
            self.changes[change.agent_id, change.merged, change.path] = change

    def overlaps(self, initiative_id: str) -> list[Overlap]:
        by_path: dict[str, list[FileChange]] = {}
        for change in self.changes.values():
            if change.initiative_id == initiative_id and not change.merged:
                by_path.setdefault(change.path, []).append(change)
        found = []
        for path in sorted(by_path):
            changes = sorted(by_path[path], key=lambda c: c.agent_id)
            changes.sort(key=lambda c: c.changed_at, reverse=True)
            if len(changes) > 1:
                found.append(Overlap(path, tuple(c.agent_id for c in changes)))
        return found

    def add_notices(self, notices: Sequence[OverlapNotice]) -> list[OverlapNotice]:
        added = []
        for notice in notices:
            key = (notice.agent_id, notice.other_agent_id, notice.path)
            if key not in self.notices:
                self.notices[key] = notice
                added.append(notice)
        return added

    def undelivered_notices(self, agent_id: str) -> list[OverlapNotice]:
        found = [n for n in self.notices.values() if n.agent_id == agent_id and not n.delivered_at]
        return sorted(found, key=lambda n: (n.created_at, n.other_agent_id, n.path))

    def mark_notices_delivered(
        self, agent_id: str, keys: Sequence[tuple[str, str]], at: datetime
    ) -> int:
        marked = 0
        for other, path in dict.fromkeys(keys):
            notice = self.notices.get((agent_id, other, path))
            if notice is not None and notice.delivered_at is None:
                self.notices[agent_id, other, path] = replace(notice, delivered_at=at)
                marked += 1
        return marked

    def save_preview(self, preview: MergePreview) -> None:
        self.saved_previews[preview.agent_id, preview.other_agent_id] = preview

    def previews(self, initiative_id: str) -> list[MergePreview]:
        saved = sorted(self.saved_previews.items())
        return [preview for _, preview in saved if preview.initiative_id == initiative_id]

    def drop_previews(self, agent_id: str) -> int:
        dropped = [key for key in self.saved_previews if agent_id in key]
        for key in dropped:
            del self.saved_previews[key]
        return len(dropped)


if TYPE_CHECKING:  # mypy: the fake satisfies its port
    from crosswalk.db.repositories import OwnershipRepository

    _ownership: OwnershipRepository = FakeOwnership(FakeAgents())
