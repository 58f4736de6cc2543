"""The runner's side of dispatch: starting an agent on a claimed task, and finding
where an agent's work is (the runner's layout, ``docs/runner.md``)."""

from __future__ import annotations

from pathlib import Path

from crosswalk.db.repositories import InitiativeRepository, ProjectRepository
from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.merging import commit_leftovers
from crosswalk.dispatch.pushing import PushTarget
from crosswalk.domain.rows import Agent, Initiative, Task
from crosswalk.runner import GitWorktrees, SpawnRequest, Supervisor
from crosswalk.runner.layout import DataLayout
from crosswalk.runner.ports import ProjectSource
from crosswalk.runner.workspaces import agent_branch, initiative_branch


class RunnerLauncher:
    """Starts an agent on a task the dispatcher claimed (``AgentLauncher``)."""

    def __init__(self, supervisor: Supervisor) -> None:
        self._supervisor = supervisor

    async def launch(self, task: Task, provider: str | None) -> Agent | None:
        return await self._supervisor.spawn(SpawnRequest(task_id=task.id, provider=provider))


class RunnerWorkspaces:
    """Where the runner put an agent's work on a task (``Workspaces``): per project of
    the task's initiative, the server's clone, the initiative branch, the agent's
    branch and its worktree (None once cleaned); and where an initiative's branch is,
    to be pushed (``Clones``); with several servers, the agent branches pushed to and
    fetched from each project's repository (``Sharing``)."""

    def __init__(
        self,
        data_dir: Path,
        worktrees: GitWorktrees,
        initiatives: InitiativeRepository,
        projects: ProjectRepository,
    ) -> None:
        self._layout = DataLayout(data_dir)
        self._worktrees = worktrees
        self._initiatives = initiatives
        self._projects = projects

    def work_of(self, agent: Agent, task: Task) -> list[AgentWork]:
        initiative_id = task.initiative_id or agent.initiative_id
        if initiative_id is None:
            return []
        initiative = self._initiatives.get(initiative_id)
        base = initiative_branch(initiative)
        works = []
        for project in self._projects.find_projects_by_initiative_id(initiative.id):
            worktree = self._layout.worktree(agent.id, project.name, project.id)
            works.append(
                AgentWork(
                    project=project.name,
                    clone=self._worktrees.clone_path(project.id),
                    initiative_branch=base,
                    agent_branch=agent_branch(base, agent.name),
                    worktree=worktree if worktree.is_dir() else None,
                    base_branch=project.default_branch,
                    project_id=project.id,
                    url=project.url,
                )
            )
        return works

    def publish(self, work: AgentWork, leftovers_message: str) -> None:
        if work.worktree is None:
            return
        commit_leftovers(work.worktree, leftovers_message)
        self._worktrees.publish(work.clone, work.agent_branch)

    def fetch(self, work: AgentWork) -> None:
        if work.project_id is None or work.url is None:
            return
        source = ProjectSource(work.project_id, work.project, work.url, work.base_branch or "main")
        self._worktrees.prepare(source, work.initiative_branch)
        if work.worktree is None:
            self._worktrees.fetch_branch(work.clone, work.agent_branch)

    def push_targets(self, initiative: Initiative) -> list[PushTarget]:
        branch = initiative_branch(initiative)
        return [
            PushTarget(
                project_id=project.id,
                project=project.name,
                url=project.url,
                clone=self._worktrees.clone_path(project.id),
                branch=branch,
            )
            for project in self._projects.find_projects_by_initiative_id(initiative.id)
        ]
