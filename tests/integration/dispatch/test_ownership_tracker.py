"""The tracker against real git worktrees: it reads an agent's work into the index when
told the agent may have changed files, coalesces a burst into one read, previews merges,
records what a merge brought, and leaves agents another server runs alone."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.git_repos import Project, git, make_project
from tests.unit.services.fake_ownership import FakeOwnership
from tests.unit.services.fakes import FakeAgents, FakeTasks, FakeUnitsOfWork, make_agent, make_task

from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.merging import GitMerger, MergeRequest
from crosswalk.dispatch.ownership import OwnershipTracker
from crosswalk.dispatch.worktree_diff import GitChanges, WorkRead
from crosswalk.domain.rows import Agent, Task
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.ownership import OwnershipService


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "repos"
    yield make_project(root)
    shutil.rmtree(root)


class Worktrees:
    """Each agent's worktree in the project, made on first use (``Workspaces``)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.paths: dict[str, tuple[Path, str]] = {}

    def path(self, name: str) -> Path:
        if name not in self.paths:
            self.paths[name] = self.project.agent_worktree(name)
        return self.paths[name][0]

    def work_of(self, agent: Agent, task: Task) -> list[AgentWork]:
        path = self.path(agent.name)
        branch = self.paths[agent.name][1]
        p = self.project
        return [AgentWork("api", p.clone, p.initiative_branch, branch, path)]


class CountingGit(GitChanges):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def unmerged(self, work: AgentWork, label: str) -> WorkRead:
        self.reads += 1
        return super().unmerged(work, label)


def agent(name: str, server: str | None = None) -> Agent:
    row = make_agent(name, task_id=f"t-{name}")
    return replace(row, name=name, initiative_id="init", server_id=server)


class World:
    def __init__(self, project: Project, *agents: Agent) -> None:
        tasks = FakeTasks(*(make_task(a.task_id or "", phase_id=None) for a in agents))
        self.agents = FakeAgents(*agents, tasks=tasks)
        self.index = FakeOwnership(self.agents)
        units = FakeUnitsOfWork(ChangeStream(), self.index)
        self.service = OwnershipService(self.index, units)
        self.worktrees = Worktrees(project)
        self.git = CountingGit()
        self.changes = ChangeStream()
        self.tracker = OwnershipTracker(
            agents=self.agents,
            tasks=tasks,
            service=self.service,
            workspaces=self.worktrees,
            changes=self.changes,
            runs_here=lambda a: a.server_id in (None, "here"),
            git=self.git,
            settle_s=0.05,
        )

    def paths(self, name: str, *, merged: bool = False) -> list[str]:
        return [c.path for c in self.index.changes_of(name, merged=merged)]


def test_work_is_read_overlaps_are_told_and_a_conflict_is_previewed(project: Project) -> None:
    world = World(project, agent("alice"), agent("bob"), agent("carol"))
    for name, text in (("alice", "alice's\n"), ("bob", "bob's\n")):
        (world.worktrees.path(name) / "README.md").write_text(text)
    (world.worktrees.path("alice") / "new.py").write_text("a\nb\n")
    (world.worktrees.path("carol") / "other.py").write_text("c\n")

    async def scenario() -> None:
        for name in ("alice", "bob", "carol"):
            await world.tracker.refresh(name)

    asyncio.run(scenario())
    assert world.paths("alice") == ["README.md", "new.py"]
    assert world.paths("bob") == ["README.md"]
    told = {(n.agent_id, n.other_agent_id, n.path) for n in world.index.notices.values()}
    assert told == {("alice", "bob", "README.md"), ("bob", "alice", "README.md")}
    previews = {key: (p.conflicts, p.files) for key, p in world.index.saved_previews.items()}
    assert previews[tuple(sorted(("alice", "bob")))] == (True, ("README.md",))
    assert previews[tuple(sorted(("alice", "carol")))] == (False, ())
    assert previews[tuple(sorted(("bob", "carol")))] == (False, ())


def test_a_burst_of_touches_is_one_read(project: Project) -> None:
    world = World(project, agent("alice"))
    (world.worktrees.path("alice") / "a.py").write_text("x\n")

    async def scenario() -> None:
        serving = asyncio.create_task(world.tracker.serve())
        await asyncio.sleep(0.2)  # the first read of every agent, at start
        reads = world.git.reads
        for _ in range(20):
            world.tracker.touch("alice")
        await asyncio.sleep(0.4)
        assert world.git.reads == reads + 1
        world.changes.close()
        await serving

    asyncio.run(scenario())
    assert world.paths("alice") == ["a.py"]


def test_an_agent_another_server_runs_is_not_read(project: Project) -> None:
    world = World(project, agent("alice", server="elsewhere"))
    (world.worktrees.path("alice") / "a.py").write_text("x\n")
    asyncio.run(world.tracker.refresh("alice"))
    assert world.git.reads == 0 and world.paths("alice") == []


def test_a_merge_turns_the_work_into_what_the_merge_brought(project: Project) -> None:
    alice = agent("alice")
    world = World(project, alice)
    path = world.worktrees.path("alice")
    (path / "README.md").write_text("project\nmore\n")
    asyncio.run(world.tracker.refresh("alice"))
    assert world.paths("alice") == ["README.md"]
    [work] = world.worktrees.work_of(alice, make_task("t-alice", phase_id=None))
    merged = GitMerger(root=project.root / "merges").merge(
        MergeRequest(project.clone, project.initiative_branch, work.agent_branch, path, "m", "l")
    )
    assert merged.commit is not None
    task = make_task("t-alice", phase_id=None)
    asyncio.run(world.tracker.landed(alice, task, [(work, merged.commit)]))
    assert world.paths("alice") == []
    [change] = world.index.changes_of("alice", merged=True)
    assert (change.path, change.lines) == ("README.md", ((2, 2),))
    asyncio.run(world.tracker.refresh("alice"))  # a read after the merge finds nothing new
    assert world.paths("alice") == [] and world.paths("alice", merged=True) == ["README.md"]
    assert git(path, "status", "--porcelain") == ""
