"""Who changed which file: the ownership index's rules.

The index is fed, never scanned per question: ``crosswalk.dispatch.ownership`` reads an
agent's worktree with git (in a worker thread) as the agent works and hands what its
work changed to :meth:`OwnershipService.record_work`; landing hands over what each merge
brought to :meth:`OwnershipService.landed`. Asking by file then reads the index
(``crosswalk.services.targets``).

Two agents whose unmerged work changed one file are each told once (an
``OverlapNotice`` their hooks deliver, ``crosswalk.services.check_in``). Each write is
one unit of work recording ``EntityChanged("fileChanges", <agent id>)``; a refresh that
finds nothing new writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from crosswalk.db.repositories import OwnershipRepository
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Agent, FileChange, MergePreview, OverlapNotice, PathChange
from crosswalk.services.unit_of_work import UnitOfWorkFactory

#: The entity of the events an ownership write records (id: the agent's).
ENTITY = "fileChanges"


@dataclass(slots=True)
class OwnershipService:
    ownership: OwnershipRepository
    unit_of_work: UnitOfWorkFactory
    clock: Clock = SYSTEM_CLOCK  # when a change was seen

    def record_work(
        self, agent: Agent, initiative_id: str, changes: Sequence[PathChange]
    ) -> list[OverlapNotice]:
        """Make ``changes`` the agent's unmerged work (what its branch and worktree
        change against the initiative branch now). A file whose change did not move
        keeps when it was first seen. Each pair of agents whose unmerged work now
        shares a file is told once; returns the notices made."""
        before = {c.path: c for c in self.ownership.changes_of(agent.id, merged=False)}
        now = self.clock.now()
        after = {
            change.path: _kept(before.get(change.path), agent, initiative_id, change, now)
            for change in changes
        }
        if after == before:
            return []
        with self.unit_of_work() as uow:
            self.ownership.replace_changes(agent.id, merged=False, changes=list(after.values()))
            uow.record(EntityChanged(ENTITY, agent.id, Action.UPDATED))
            if not set(after) - set(before):
                return []  # no file is new to its work: no overlap is new either
            return self.ownership.add_notices(self._notices(agent.id, initiative_id, now))

    def _notices(self, agent_id: str, initiative_id: str, now: datetime) -> list[OverlapNotice]:
        notices = []
        for overlap in self.ownership.overlaps(initiative_id):
            if agent_id not in overlap.agent_ids:
                continue
            for other in overlap.agent_ids:
                if other == agent_id:
                    continue
                for told, about in ((agent_id, other), (other, agent_id)):
                    notices.append(
                        OverlapNotice(told, about, overlap.path, initiative_id, now, None)
                    )
        return notices

    def landed(self, agent: Agent, initiative_id: str, changes: Sequence[PathChange]) -> None:
        """The agent's work was merged into the initiative branch, bringing ``changes``
        (the merge against its first parent): they become the agent's merged changes
        (replacing earlier merged ones of the same files), its unmerged work is gone,
        and so are the merge previews of its pairs."""
        now = self.clock.now()
        merged = {c.path: c for c in self.ownership.changes_of(agent.id, merged=True)}
        for change in changes:
            merged[change.path] = FileChange(
                agent.id, True, change.path, initiative_id, agent.task_id, change.lines, now
            )
        with self.unit_of_work() as uow:
            self.ownership.replace_changes(agent.id, merged=False, changes=[])
            self.ownership.replace_changes(agent.id, merged=True, changes=list(merged.values()))
            self.ownership.drop_previews(agent.id)
            uow.record(EntityChanged(ENTITY, agent.id, Action.UPDATED))

    def record_preview(self, preview: MergePreview) -> None:
        """Whether the two agents' work would merge cleanly, as ``git merge-tree`` says."""
        with self.unit_of_work() as uow:
            self.ownership.save_preview(preview)
            uow.record(EntityChanged(ENTITY, preview.agent_id, Action.UPDATED))


def _kept(
    before: FileChange | None,
    agent: Agent,
    initiative_id: str,
    change: PathChange,
    now: datetime,
) -> FileChange:
    """The change as recorded now; ``before`` itself when only the time would differ."""
    fresh = FileChange(
        agent.id, False, change.path, initiative_id, agent.task_id, change.lines, now
    )
    if before is not None and replace(before, changed_at=now) == fresh:
        return before
    return fresh
