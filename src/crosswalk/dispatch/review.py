"""A person reviews a task's work: its diff, and a request for changes.

``diff`` reads, per project of the task's initiative, what the task's agent changed
(``crosswalk.dispatch.diffs``). ``request_changes`` sends a ``pending_approval`` task
back to its agent: the task is ``in_progress`` again (``PlanningService``, the one
writer of task status) and the agent is resumed in its CLI session with the person's
comment as the prompt. When that run succeeds, landing puts the task back in
``pending_approval`` with the new diff; approving it merges (``landing``).

Git runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crosswalk.db.repositories import AgentRepository, TaskRepository
from crosswalk.dispatch.diffs import Diff, DiffRequest
from crosswalk.dispatch.landing import AgentWork, Sharing, Workspaces
from crosswalk.domain.enums import MessageStatus, MessageType, ParticipantType, TaskStatus
from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError
from crosswalk.domain.rows import Agent, NewMessage, Task
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.planning import PlanningService


class Differ(Protocol):
    def diff(self, request: DiffRequest) -> Diff: ...


class Resumer(Protocol):
    """Runs an agent again in its CLI session (the runner's ``Supervisor``)."""

    async def resume(self, agent_id: str, message: str | None = None) -> Agent: ...


@dataclass(frozen=True, slots=True)
class ProjectDiff:
    work: AgentWork
    diff: Diff | None
    error: str | None  # why there is no diff (a branch gone...), else None


@dataclass(frozen=True, slots=True)
class TaskDiff:
    task: Task
    agent: Agent | None  # None: no agent has worked on the task yet
    projects: tuple[ProjectDiff, ...]


@dataclass(slots=True)
class ReviewService:
    tasks: TaskRepository
    agents: AgentRepository
    planning: PlanningService
    human_questions: HumanQuestionService
    workspaces: Workspaces
    differ: Differ
    resumer: Resumer | None = None
    #: Several servers: work another server ran is fetched from the project first.
    sharing: Sharing | None = None
    offload: Offload = field(default_factory=InlineOffload)  # where database work runs

    async def diff(self, task_id: str, *, with_patch: bool = True) -> TaskDiff:
        """The task's changes; git (and the reads around it) in a worker thread."""
        return await asyncio.to_thread(self.read_diff, task_id, with_patch=with_patch)

    def read_diff(self, task_id: str, *, with_patch: bool = True) -> TaskDiff:
        """Blocking: for callers already off the event loop (the dashboard's pages)."""
        task = self.tasks.get(task_id)
        agent = self._worker(task)
        if agent is None:
            return TaskDiff(task, None, ())
        merges = _merges(agent) if task.status is TaskStatus.COMPLETED else {}
        projects = []
        for work in self.workspaces.work_of(agent, task):
            if self.sharing is not None and work.worktree is None:
                try:
                    self.sharing.fetch(work)
                except CrosswalkError as exc:
                    projects.append(ProjectDiff(work, None, exc.message))
                    continue
            request = DiffRequest(
                clone=work.clone,
                initiative_branch=work.initiative_branch,
                agent_branch=work.agent_branch,
                worktree=work.worktree,
                merge_commit=merges.get(work.project),
                with_patch=with_patch,
            )
            try:
                projects.append(ProjectDiff(work, self.differ.diff(request), None))
            except CrosswalkError as exc:
                projects.append(ProjectDiff(work, None, exc.message))
        return TaskDiff(task, agent, tuple(projects))

    async def request_changes(self, task_id: str, comment: str) -> Task:
        """Send a ``pending_approval`` task back to its agent with the person's
        ``comment``: the task is ``in_progress`` and the agent runs again in its
        session. If the agent cannot be resumed (its worktree or session is gone, it
        runs), the task stays ``pending_approval`` and the error says why."""
        task, agent, moved = await self.offload(self._send_back, task_id)
        assert self.resumer is not None
        try:
            await self.resumer.resume(agent.id, changes_prompt(task, comment))
        except BaseException:
            await self.offload(
                self.planning.move_task,
                task.id,
                TaskStatus.PENDING_APPROVAL,
                expected=[TaskStatus.IN_PROGRESS],
            )
            raise
        await self.offload(
            self.human_questions.send,
            NewMessage(
                sender_type=ParticipantType.USER,
                recipient_type=ParticipantType.AGENT,
                recipient_id=agent.id,
                type=MessageType.INFO,
                content=comment,
                status=MessageStatus.READ,  # delivered as the prompt of the agent's run
                task_id=task.id,
            ),
        )
        return moved

    def _send_back(self, task_id: str) -> tuple[Task, Agent, Task]:
        """The task waiting for approval, its agent, and the task moved back to it."""
        task = self.tasks.get(task_id)
        if task.status is not TaskStatus.PENDING_APPROVAL:
            raise PreconditionFailedError(
                f"task '{task.name}' ({task.id}) is {task.status.value}, not "
                "pending_approval; only work waiting for approval can be sent back"
            )
        agent = self._worker(task)
        if agent is None or self.resumer is None:
            why = "no agent worked on it" if agent is None else "this server runs no agents"
            raise PreconditionFailedError(
                f"task '{task.name}' ({task.id}) cannot be sent back: {why}; change it with "
                f"cw task update {task.id}, or approve it with cw task approve {task.id}"
            )
        return task, agent, self.planning.request_changes(task.id)

    def _worker(self, task: Task) -> Agent | None:
        """The agent whose work is the task's (the most recently updated one)."""
        found = self.agents.find_by_task_id(task.id)
        return found[0] if found else None


def changes_prompt(task: Task, comment: str) -> str:
    """What the agent is told when its work is sent back."""
    return (
        f"A person reviewed your work on task '{task.name}' and asks for changes:\n\n"
        f"{comment}\n\n"
        "Make these changes in this worktree (committed or not, everything in it is "
        "merged). When you are done, end your turn: your work goes back to the person "
        "for approval."
    )


def _merges(agent: Agent) -> Mapping[str, str]:
    """Project name -> the commit that merged the agent's work there."""
    result: Any = agent.result
    merge = result.get("merge") if isinstance(result, dict) else None
    if not isinstance(merge, dict):
        return {}
    return {
        project: str(record["commit"])
        for project, record in merge.items()
        if isinstance(record, dict) and isinstance(record.get("commit"), str)
    }
