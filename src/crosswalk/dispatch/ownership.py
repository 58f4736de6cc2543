"""Keeps the ownership index (``crosswalk.services.ownership``) up with the agents' work.

The tracker follows the change stream: each time an agent this server runs writes
output (``LogChunkAppended``: a tool call, a message) or changes status, and each time
its hooks report a tool call (``touch``, from ``agent.checkIn``), it reads the agent's
worktrees again with git and records what its work changes against the initiative
branch. Reads of one agent are serialised and coalesced (a burst of output is one read,
``SETTLE_S`` after it starts), and git and the database run in a worker thread, never
on the event loop. A merge hands what it brought to :meth:`OwnershipTracker.landed`
(``crosswalk.dispatch.landing``), under the same per-agent lock, so a read that started
before the merge cannot undo it.

After each read whose snapshot moved, the agent's work is merged in memory
(``git merge-tree``) with that of every other agent of the initiative that has unmerged
work here, and whether it would conflict is recorded: the initiative's status shows it
before any merge is tried.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from crosswalk.db.repositories import AgentRepository, TaskRepository
from crosswalk.dispatch.landing import AgentWork, Workspaces
from crosswalk.dispatch.worktree_diff import GitChanges
from crosswalk.domain.enums import LIVE_AGENT_STATUSES, AgentStatus
from crosswalk.domain.errors import CrosswalkError
from crosswalk.domain.events import AgentStatusChanged, Event, LogChunkAppended
from crosswalk.domain.rows import Agent, MergePreview, PathChange, Task
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.ownership import OwnershipService

logger = logging.getLogger("crosswalk.dispatch")

#: A read waits this long after the first change it is for, so a burst is one read.
SETTLE_S = 0.3


def wakes_tracker(event: Event) -> bool:
    return isinstance(event, (LogChunkAppended, AgentStatusChanged))


def _agent_of(event: Event) -> str | None:
    if isinstance(event, (LogChunkAppended, AgentStatusChanged)):
        return event.agent_id
    return None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """An agent's work as last read: per clone, its snapshot commit."""

    initiative_id: str
    commits: dict[Path, str]
    changed: bool  # whether the work changes any file


class OwnershipTracker:
    def __init__(
        self,
        *,
        agents: AgentRepository,
        tasks: TaskRepository,
        service: OwnershipService,
        workspaces: Workspaces,
        changes: ChangeStream,
        runs_here: Callable[[Agent], bool],
        git: GitChanges | None = None,
        settle_s: float = SETTLE_S,
    ) -> None:
        self._agents = agents
        self._tasks = tasks
        self._service = service
        self._workspaces = workspaces
        self._changes = changes
        self._runs_here = runs_here
        self._git = git or GitChanges()
        self._settle_s = settle_s
        self._locks: dict[str, asyncio.Lock] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # set by ``serve``
        # Read and written in worker threads: guarded by ``_guard``.
        self._guard = threading.Lock()
        self._snapshots: dict[str, _Snapshot] = {}
        self._previewed: dict[tuple[str, str], tuple[str, ...]] = {}

    # -- what the server calls ---------------------------------------------------------

    def touch(self, agent_id: str) -> None:
        """The agent may have changed files: read its work again soon. Callable from
        any thread (a procedure may run on a worker thread); nothing while the tracker
        does not serve."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._touch(agent_id)
        else:
            loop.call_soon_threadsafe(self._touch, agent_id)

    async def refresh(self, agent_id: str) -> None:
        """Read the agent's work now (after any read or landing in progress)."""
        async with self._lock(agent_id):
            await asyncio.to_thread(self._refresh, agent_id)

    async def landed(
        self, agent: Agent, task: Task, merges: Sequence[tuple[AgentWork, str]]
    ) -> None:
        """The agent's work on ``task`` was merged: ``merges`` are the merge commits,
        per project. Its changes become merged ones, from what each merge brought."""
        async with self._lock(agent.id):
            try:
                await asyncio.to_thread(self._landed, agent, task, merges)
            except Exception:  # the merge stands whatever the index makes of it
                logger.exception("recording the merge of agent %s failed", agent.name)

    async def serve(self) -> None:
        """Read every agent this server runs once, then follow the change stream
        until it closes (server shutdown)."""
        self._loop = asyncio.get_running_loop()
        await self._reconcile()
        while not self._changes.closed:
            async with self._changes.follow(wakes_tracker) as events:
                async for event in events:
                    agent_id = _agent_of(event)
                    if agent_id is not None:
                        self._touch(agent_id)
            if not events.lagged:
                break
            await self._reconcile()
        await self.close()

    async def close(self) -> None:
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    # -- on the loop -------------------------------------------------------------------

    def _touch(self, agent_id: str) -> None:
        self._dirty.add(agent_id)
        if agent_id not in self._workers and self._loop is not None:
            self._workers[agent_id] = self._loop.create_task(
                self._coalesce(agent_id), name=f"ownership {agent_id}"
            )

    def _lock(self, agent_id: str) -> asyncio.Lock:
        return self._locks.setdefault(agent_id, asyncio.Lock())

    async def _coalesce(self, agent_id: str) -> None:
        try:
            while agent_id in self._dirty:
                await asyncio.sleep(self._settle_s)
                self._dirty.discard(agent_id)
                try:
                    await self.refresh(agent_id)
                except CrosswalkError as exc:
                    logger.warning("reading the work of agent %s: %s", agent_id, exc.message)
                except Exception:  # the tracker must outlive one bad read
                    logger.exception("reading the work of agent %s failed", agent_id)
        finally:
            self._workers.pop(agent_id, None)

    async def _reconcile(self) -> None:
        agents = await asyncio.to_thread(self._agents.find_all)
        for agent in agents:
            if agent.status in LIVE_AGENT_STATUSES or agent.status is AgentStatus.IDLE:
                self._touch(agent.id)

    # -- in a worker thread ------------------------------------------------------------

    def _work(self, agent_id: str) -> tuple[Agent, Task, str, Sequence[AgentWork]] | None:
        agent = self._agents.find_by_id(agent_id)
        if agent is None or agent.task_id is None or not self._runs_here(agent):
            return None
        task = self._tasks.find_by_id(agent.task_id)
        initiative_id = None if task is None else task.initiative_id or agent.initiative_id
        if task is None or initiative_id is None:
            return None
        return agent, task, initiative_id, self._workspaces.work_of(agent, task)

    def _refresh(self, agent_id: str) -> None:
        found = self._work(agent_id)
        if found is None:
            return
        agent, _task, initiative_id, works = found
        changes: list[PathChange] = []
        commits: dict[Path, str] = {}
        for work in works:
            read = self._git.unmerged(work, f"agent {agent.name}")
            if read.snapshot is not None:
                commits[work.clone] = read.snapshot
                changes.extend(read.changes)
        if not commits:
            return  # no worktree or branch here: nothing is known of its work
        self._service.record_work(agent, initiative_id, changes)
        snapshot = _Snapshot(initiative_id, commits, bool(changes))
        with self._guard:
            moved = self._snapshots.get(agent.id) != snapshot
            self._snapshots[agent.id] = snapshot
        if moved and changes:
            self._preview(agent.id, snapshot)

    def _preview(self, agent_id: str, mine: _Snapshot) -> None:
        with self._guard:
            others = {
                other: theirs
                for other, theirs in self._snapshots.items()
                if other != agent_id
                and theirs.changed
                and theirs.initiative_id == mine.initiative_id
            }
        for other, theirs in others.items():
            first, second = sorted((agent_id, other))
            clones = sorted(set(mine.commits) & set(theirs.commits))
            pair = tuple(f"{mine.commits[c]}:{theirs.commits[c]}" for c in clones)
            with self._guard:
                if self._previewed.get((first, second)) == pair:
                    continue
            files: list[str] = []
            for clone in clones:
                found = self._git.conflicts(clone, mine.commits[clone], theirs.commits[clone])
                files.extend(found or ())
            self._service.record_preview(
                MergePreview(
                    first,
                    second,
                    mine.initiative_id,
                    bool(files),
                    tuple(dict.fromkeys(files)),
                    self._service.clock.now(),
                )
            )
            with self._guard:
                self._previewed[first, second] = pair

    def _landed(self, agent: Agent, task: Task, merges: Sequence[tuple[AgentWork, str]]) -> None:
        initiative_id = task.initiative_id or agent.initiative_id
        if initiative_id is None:
            return
        changes: list[PathChange] = []
        for work, commit in merges:
            changes.extend(self._git.merged(work.clone, commit))
        self._service.landed(agent, initiative_id, changes)
        with self._guard:
            self._snapshots.pop(agent.id, None)
            for pair in [pair for pair in self._previewed if agent.id in pair]:
                del self._previewed[pair]


__all__ = ["OwnershipTracker", "wakes_tracker"]
