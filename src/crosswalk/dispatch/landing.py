"""Finished work lands on the initiative branch, behind approval when it needs one.

When an agent's run succeeds its task either waits for a person
(``pending_approval``, when the task's effective approval is required) or is merged
at once. ``approve`` and ``retry_merge`` merge later. A clean merge completes the
task and records the merge commit in the agent's ``result["merge"]``; a conflict
leaves the initiative branch untouched, marks the task ``blocked`` and asks the
person (a message that requires a response, about the task) which files to fix.

After a merge, ``after_merge`` pushes the initiative branch when the initiative asks
for it (``autoPush``, ``crosswalk.dispatch.pushing``). Git runs in a worker thread
(``asyncio.to_thread``), outside any unit of work, and database work through ``offload``
(never on the loop on PostgreSQL); every state change goes through the services
(tasks: ``PlanningService``, the agent's result: ``AgentService``, questions to the
person: ``HumanQuestionService``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crosswalk.db.repositories import AgentRepository, TaskRepository
from crosswalk.dispatch.merging import Merger, MergeRequest, MergeResult
from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError
from crosswalk.domain.rows import Agent, Task
from crosswalk.services.agents import AgentService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.planning import PlanningService


@dataclass(frozen=True, slots=True)
class AgentWork:
    """One project's share of an agent's work, as the runner laid it out."""

    project: str  # the project's name, for messages
    clone: Path  # the server's clone of the project
    initiative_branch: str
    agent_branch: str
    worktree: Path | None  # the agent's worktree, None once cleaned
    base_branch: str | None = None  # the project's default branch
    project_id: str | None = None
    url: str | None = None  # the project's own repository


class Sharing(Protocol):
    """The project's own repository as the place the servers' work meets: an agent's
    branch is pushed there from the server that ran it, and fetched from there by a
    server that lands or shows work it did not run (docs/deploy.md)."""

    def publish(self, work: AgentWork, leftovers_message: str) -> None:
        """Commit what the agent left uncommitted, then push its branch."""
        ...

    def fetch(self, work: AgentWork) -> None:
        """Bring this server's clone up to the project: its initiative branch, and the
        agent's branch unless the agent's worktree is here."""
        ...


class Workspaces(Protocol):
    def work_of(self, agent: Agent, task: Task) -> Sequence[AgentWork]:
        """Where the agent's work on the task is, per project."""
        ...


class AfterMerge(Protocol):
    """Told after a merge completed a task (``pushing.PushService`` pushes, when the
    initiative says so)."""

    async def after_merge(self, initiative_id: str) -> None: ...


class MergeWatcher(Protocol):
    async def landed(
        self, agent: Agent, task: Task, merges: Sequence[tuple[AgentWork, str]]
    ) -> None:
        """The agent's work on the task was merged: the merge commit of each project."""
        ...


@dataclass(frozen=True, slots=True)
class Conflict:
    project: str
    files: tuple[str, ...]


@dataclass(slots=True)
class LandingService:
    tasks: TaskRepository
    agents: AgentRepository
    planning: PlanningService
    agent_service: AgentService
    human_questions: HumanQuestionService
    merger: Merger
    workspaces: Workspaces
    after_merge: AfterMerge | None = None
    #: Told of each landing (the ownership index: ``crosswalk.dispatch.ownership``).
    watcher: MergeWatcher | None = None
    #: Several servers: their work meets in each project's repository.
    sharing: Sharing | None = None
    offload: Offload = field(default_factory=InlineOffload)  # where database work runs

    async def run_succeeded(self, agent: Agent) -> Task | None:
        """The agent's run ended with a success result: its in-progress task waits for
        approval or is merged now. None when the agent has no task in progress."""
        if agent.task_id is None:
            return None
        task = await self.offload(self.tasks.find_by_id, agent.task_id)
        # blocked: the agent had failed and was resumed by hand; its work lands now.
        if task is None or task.status not in (TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED):
            return None
        if await self.offload(self.tasks.requires_approval, task.id):
            await self._publish(task, agent)
            return await self.offload(self._hold_for_approval, task)
        try:
            return await self._merge(task, agent, task.status)
        except CrosswalkError as exc:  # git failed otherwise than by a conflict
            return await self.offload(
                self._block,
                task,
                task.status,
                f"Merging task '{task.name}' ({task.id}) by agent {agent.name} failed: "
                f"{exc.message}\nFix the cause, then run: cw task retry-merge {task.id}",
            )

    def _hold_for_approval(self, task: Task) -> Task:
        """The task waits for approval (its work is already in the project)."""
        return self.planning.move_task(task.id, TaskStatus.PENDING_APPROVAL, expected=[task.status])

    async def run_failed(self, agent: Agent, reason: str) -> Task | None:
        """The agent's run crashed or was stopped: its in-progress task is ``blocked``
        and the person is asked what to do (resume the agent, or dispatch again)."""
        return await self.offload(self._failed, agent, reason)

    def _failed(self, agent: Agent, reason: str) -> Task | None:
        if agent.task_id is None:
            return None
        task = self.tasks.find_by_id(agent.task_id)
        if task is None or task.status is not TaskStatus.IN_PROGRESS:
            return None
        return self._block(
            task,
            TaskStatus.IN_PROGRESS,
            f"Agent {agent.name} on task '{task.name}' ({task.id}) {reason}. "
            f"Resume it with: cw agent resume {agent.name}; or dispatch the task "
            f"to a new agent with: cw task update {task.id} --status pending",
        )

    def _block(self, task: Task, expected: TaskStatus, question: str) -> Task:
        """The task is ``blocked`` and the person is asked ``question`` about it."""
        blocked, _ = self.planning.move_and_ask(
            task.id, TaskStatus.BLOCKED, question, expected=[expected]
        )
        return blocked

    async def approve(self, task_id: str) -> Task:
        """A person approves a ``pending_approval`` task: its agent's work is merged (and
        the task completed, or blocked on a conflict). A task created
        ``pending_approval`` that never ran (e.g. from an accepted proposal) is
        approved to start: it becomes ``pending``."""
        task, agent = await self.offload(
            self._worked, task_id, TaskStatus.PENDING_APPROVAL, "be approved"
        )
        if agent is None:
            return task
        return await self._merge(task, agent, TaskStatus.PENDING_APPROVAL)

    async def retry_merge(self, task_id: str) -> Task:
        """Merge a ``blocked`` task's work again (after someone fixed its branch); a
        blocked task without an agent goes back to ``pending``, to be dispatched."""
        task, agent = await self.offload(
            self._worked, task_id, TaskStatus.BLOCKED, "have its merge retried"
        )
        if agent is None:
            return task
        return await self._merge(task, agent, TaskStatus.BLOCKED)

    def _worked(self, task_id: str, status: TaskStatus, action: str) -> tuple[Task, Agent | None]:
        """The task (which must be ``status``) and the agent whose work is to merge; a
        task no agent worked on goes (back) to ``pending``, to be dispatched."""
        task = self._in(task_id, status, action)
        agent = self._worker(task)
        if agent is None:
            return self.planning.move_task(task.id, TaskStatus.PENDING, expected=[status]), None
        return task, agent

    def _in(self, task_id: str, status: TaskStatus, action: str) -> Task:
        task = self.tasks.get(task_id)
        if task.status is not status:
            raise PreconditionFailedError(
                f"task '{task.name}' ({task.id}) is {task.status.value}, not {status.value}; "
                f"only a {status.value} task can {action}"
            )
        return task

    def _worker(self, task: Task) -> Agent | None:
        """The agent whose work is the task's (the most recently updated one)."""
        found = self.agents.find_by_task_id(task.id)
        return found[0] if found else None

    async def _publish(self, task: Task, agent: Agent) -> None:
        """Push the agent's branch to each project, so any server can show and land it."""
        if self.sharing is None:
            return
        for work in await self.offload(self.workspaces.work_of, agent, task):
            if work.worktree is not None:
                message = self._request(task, agent, work).leftovers_message
                await asyncio.to_thread(self.sharing.publish, work, message)

    async def _merge(self, task: Task, agent: Agent, expected: TaskStatus) -> Task:
        works = await self.offload(self.workspaces.work_of, agent, task)
        if self.sharing is not None:
            await self._publish(task, agent)
            for work in works:
                await asyncio.to_thread(self.sharing.fetch, work)
            # the clone may be new here
            works = await self.offload(self.workspaces.work_of, agent, task)
        merged: dict[str, Any] = {}
        commits: list[tuple[AgentWork, str]] = []
        conflicts: list[Conflict] = []
        for work in works:
            result: MergeResult = await asyncio.to_thread(
                self.merger.merge, self._request(task, agent, work)
            )
            if result.commit is not None:
                commits.append((work, result.commit))
                merged[work.project] = {
                    "commit": result.commit,
                    "branch": work.initiative_branch,
                    "agentBranch": work.agent_branch,
                    "leftoversCommit": result.leftovers_commit,
                }
            else:
                conflicts.append(Conflict(work.project, result.conflicts))
        if merged:
            await self.offload(self._record, agent, merged)
        if conflicts:
            question = _conflict_text(task, agent, works, conflicts)
            return await self.offload(self._block, task, expected, question)
        # Completing the task closes the conflict questions about it (PlanningService).
        completed = await self.offload(
            self.planning.move_task, task.id, TaskStatus.COMPLETED, expected=[expected]
        )
        if self.after_merge is not None and completed.initiative_id is not None:
            await self.after_merge.after_merge(completed.initiative_id)
        if self.watcher is not None:
            await self.watcher.landed(agent, task, commits)
        return completed

    def _request(self, task: Task, agent: Agent, work: AgentWork) -> MergeRequest:
        return MergeRequest(
            clone=work.clone,
            initiative_branch=work.initiative_branch,
            agent_branch=work.agent_branch,
            agent_worktree=work.worktree,
            message=f"Merge task '{task.name}' ({task.id}) by agent {agent.name}",
            leftovers_message=(
                f"Uncommitted work of task '{task.name}' ({task.id}) by agent {agent.name}, "
                "committed by crosswalk before merging"
            ),
            base_branch=work.base_branch,
        )

    def _record(self, agent: Agent, merged: dict[str, Any]) -> None:
        if isinstance(agent.result, dict):
            result = dict(agent.result)
        else:  # keep a result of another shape under a key of its own
            result = {} if agent.result is None else {"value": agent.result}
        self.agent_service.update(agent.id, {"result": {**result, "merge": merged}})


def _conflict_text(
    task: Task, agent: Agent, works: Sequence[AgentWork], conflicts: list[Conflict]
) -> str:
    """The question a conflict asks: which files, where, and how to go on."""
    by_project = {work.project: work for work in works}
    lines = [
        f"Merging task '{task.name}' ({task.id}) by agent {agent.name} conflicts; "
        "the initiative branch is unchanged."
    ]
    for conflict in conflicts:
        work = by_project[conflict.project]
        where = f" (worktree {work.worktree})" if work.worktree is not None else ""
        lines.append(
            f"- project {conflict.project}: {', '.join(conflict.files)} conflict between "
            f"{work.agent_branch}{where} and {work.initiative_branch}"
        )
    lines.append(
        "Fix the agent branch (merge the initiative branch into it and resolve), then "
        f"run: cw task retry-merge {task.id}"
    )
    return "\n".join(lines)
