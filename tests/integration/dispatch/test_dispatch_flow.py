"""Dispatch, landing and checkpoints together, in process: a real SQLite database, real
git repositories and worktrees, and a stand-in launcher that plays the runner (it
creates the agent and its worktree; the test plays the agent's work and its end)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.support.git_repos import Project, git, make_project

from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.pushing import PushTarget
from crosswalk.dispatch.status import gather, report
from crosswalk.domain.enums import (
    AgentStatus,
    DispatchStatus,
    InitiativeStatus,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from crosswalk.domain.errors import InvalidInputError, PreconditionFailedError
from crosswalk.domain.rows import (
    Agent,
    Initiative,
    NewAgent,
    NewInitiative,
    NewProject,
    NewTask,
    Task,
)
from crosswalk.runner import RunnerSettings
from crosswalk.server.app import build_runtime, build_services
from crosswalk.server.context import Runtime, Services
from crosswalk.services.targets import AgentTarget

pytestmark = pytest.mark.anyio


@dataclass
class StandInRunner:
    """Launcher and workspaces of a runner that starts nothing: each launch makes the
    agent row and its worktree; ``finish`` writes the agent's file and ends its run."""

    project: Project
    services: Services | None = None
    runtime: Runtime | None = None
    launched: list[Task] = field(default_factory=list)
    worktrees: dict[str, tuple[Path, str]] = field(default_factory=dict)
    fail_with: str | None = None

    async def launch(self, task: Task, provider: str | None) -> Agent:
        if self.fail_with is not None:
            raise InvalidInputError(self.fail_with)
        assert self.services is not None
        agent = self.services.repos.agents.create(
            NewAgent(
                ".",
                task_id=task.id,
                initiative_id=task.initiative_id,
                provider=provider or "claude",
            )
        )
        self.worktrees[agent.id] = self.project.agent_worktree(agent.name)
        self.launched.append(task)
        return agent

    def work_of(self, agent: Agent, task: Task) -> list[AgentWork]:
        worktree, branch = self.worktrees[agent.id]
        return [
            AgentWork(
                project="app",
                clone=self.project.clone,
                initiative_branch=self.project.initiative_branch,
                agent_branch=branch,
                worktree=worktree,
            )
        ]

    def push_targets(self, initiative: Initiative) -> list[PushTarget]:
        url = str(self.project.root / "origin")
        return [PushTarget("p1", "app", url, self.project.clone, self.project.initiative_branch)]

    async def finish(self, task_id: str, files: dict[str, str] | None = None) -> Task | None:
        assert self.services is not None
        [agent] = self.services.repos.agents.find_by_task_id(task_id)
        worktree, _ = self.worktrees[agent.id]
        for name, text in (files or {f"{task_id}.txt": task_id}).items():
            (worktree / name).write_text(text)  # left uncommitted: landing commits it
        assert self.runtime is not None
        return await self.runtime.landing.run_succeeded(agent)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "repos"
    yield make_project(root)
    shutil.rmtree(root)


@pytest.fixture
def runner(project: Project, engine: Engine) -> StandInRunner:
    runner = StandInRunner(project)
    runner.services = build_services(engine, "admin-token")
    runner.runtime = build_runtime(
        runner.services,
        RunnerSettings(data_dir=project.root),
        workspaces=runner,
        launcher=runner,
        clones=runner,
    )
    return runner


def new_initiative(services: Services, data: NewInitiative) -> Initiative:
    """An initiative with a project linked (dispatch refuses one without); the stand-in
    runner's workspaces decide where the work really is."""
    initiative = services.repos.initiatives.create(data)
    project = services.repos.projects.create(
        NewProject(f"app-{initiative.id}", f"https://example.com/{initiative.id}.git")
    )
    services.repos.projects.add_project_to_initiative(initiative.id, project.id)
    return initiative


def plan(services: Services, approval: bool = False) -> tuple[str, dict[str, Task]]:
    """Five tasks: a diamond (a -> b, c -> d) and a chain (e after d), plus priorities."""
    initiative = new_initiative(
        services, NewInitiative("Diamond", merge_requires_approval=approval, branch="cw/auth")
    )
    tasks = {
        name: services.repos.tasks.create(
            NewTask(name, initiative_id=initiative.id, priority=priority)
        )
        for name, priority in (
            ("a", TaskPriority.MEDIUM),
            ("b", TaskPriority.LOW),
            ("c", TaskPriority.HIGH),
            ("d", TaskPriority.MEDIUM),
            ("e", TaskPriority.MEDIUM),
        )
    }
    for dependent, prerequisite in (("b", "a"), ("c", "a"), ("d", "b"), ("d", "c"), ("e", "d")):
        services.repos.tasks.create_dependency(tasks[dependent].id, tasks[prerequisite].id)
    return initiative.id, tasks


def status(services: Services, task: Task) -> TaskStatus:
    return services.repos.tasks.get(task.id).status


async def test_an_initiative_runs_to_the_end_two_agents_at_most(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative_id, tasks = plan(services)
    dispatcher = runtime.dispatcher
    dispatcher.run(initiative_id, max_agents=2, provider="codex")

    order: list[str] = []
    for _ in range(10):
        started = await dispatcher.step(initiative_id)
        order += [t.name for t in started]
        running = [t for t in tasks.values() if status(services, t) is TaskStatus.IN_PROGRESS]
        assert len(running) <= 2
        if not running:
            break
        # the highest priority running task finishes first
        for task in sorted(running, key=lambda t: t.priority != TaskPriority.HIGH)[:1]:
            finished = await runner.finish(task.id)
            assert finished is not None and finished.status is TaskStatus.COMPLETED

    assert order == ["a", "c", "b", "d", "e"]  # c (high) before b (low); d after both
    assert await dispatcher.step(initiative_id) == []
    assert services.repos.initiatives.get(initiative_id).dispatch_status is DispatchStatus.OFF
    for task in tasks.values():
        assert project.file_on(project.initiative_branch, f"{task.id}.txt") == task.id
        [agent] = services.repos.agents.find_by_task_id(task.id)
        assert agent.provider == "codex"
        merge = agent.result["merge"]["app"]
        assert git(project.clone, "cat-file", "-t", merge["commit"]).strip() == "commit"


async def test_approval_holds_the_merge_until_a_person_approves(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative_id, _ = plan(services, approval=True)
    runtime.dispatcher.run(initiative_id, max_agents=2, provider=None)
    [started] = await runtime.dispatcher.step(initiative_id)

    held = await runner.finish(started.id)

    assert held is not None and held.status is TaskStatus.PENDING_APPROVAL
    assert project.file_on(project.initiative_branch, f"{started.id}.txt") is None
    assert await runtime.dispatcher.step(initiative_id) == []  # b and c wait for a's merge
    approved = await runtime.landing.approve(started.id)
    assert approved.status is TaskStatus.COMPLETED
    assert project.file_on(project.initiative_branch, f"{started.id}.txt") == started.id
    assert {t.name for t in await runtime.dispatcher.step(initiative_id)} == {"b", "c"}


@dataclass
class StandInResumer:
    """Resumes agents as the runner's supervisor would, or refuses as it would."""

    services: Services
    resumed: list[tuple[str, str | None]] = field(default_factory=list)
    refuse: str | None = None

    async def resume(self, agent_id: str, message: str | None = None) -> Agent:
        if self.refuse is not None:
            raise PreconditionFailedError(self.refuse)
        self.resumed.append((agent_id, message))
        return self.services.repos.agents.get(agent_id)


async def test_a_person_sends_work_back_with_a_comment_and_it_waits_again(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    resumer = StandInResumer(services)
    runtime.review.resumer = resumer
    initiative_id, _ = plan(services, approval=True)
    runtime.dispatcher.run(initiative_id, max_agents=1, provider=None)
    [started] = await runtime.dispatcher.step(initiative_id)
    await runner.finish(started.id, {"login.py": "def login(): pass\n"})
    [agent] = services.repos.agents.find_by_task_id(started.id)

    first = await runtime.review.diff(started.id)
    assert [c.path for p in first.projects for c in p.diff.files if p.diff] == ["login.py"]

    resumer.refuse = f"the worktree of agent {agent.name} is gone"
    with pytest.raises(PreconditionFailedError, match="worktree of agent"):
        await runtime.review.request_changes(started.id, "check the password")
    assert status(services, started) is TaskStatus.PENDING_APPROVAL  # nothing moved

    resumer.refuse = None
    sent = await runtime.review.request_changes(started.id, "check the password too")
    assert sent.status is TaskStatus.IN_PROGRESS
    [(resumed, prompt)] = resumer.resumed
    assert resumed == agent.id and prompt is not None and "check the password too" in prompt
    [note] = services.repos.messages.list_page(recipient_id=agent.id).items
    assert (note.content, note.task_id) == ("check the password too", started.id)
    with pytest.raises(PreconditionFailedError, match="not pending_approval"):
        await runtime.review.request_changes(started.id, "again")

    again = await runner.finish(started.id, {"login.py": "def login(password): ...\n"})
    assert again is not None and again.status is TaskStatus.PENDING_APPROVAL
    second = await runtime.review.diff(started.id)
    [patch] = [c.patch for p in second.projects if p.diff for c in p.diff.files]
    assert patch is not None and "+def login(password): ..." in patch

    await runtime.landing.approve(started.id)
    merged = await runtime.review.diff(started.id)
    assert [p.diff.source for p in merged.projects if p.diff] == ["merged"]
    assert project.file_on(project.initiative_branch, "login.py") == "def login(password): ...\n"


async def test_with_auto_push_each_merge_is_pushed_and_the_last_completes_the_initiative(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    origin = project.root / "origin"
    initiative = services.planning.create_initiative(
        NewInitiative("Pushy", merge_requires_approval=False, branch="cw/auth", auto_push=True)
    )
    linked = services.repos.projects.create(NewProject("app", str(origin)))
    services.repos.projects.add_project_to_initiative(initiative.id, linked.id)
    runner.push_targets = lambda i: [  # type: ignore[method-assign]
        PushTarget(linked.id, "app", str(origin), project.clone, "cw/auth")
    ]
    first, second = (
        services.planning.create_task(NewTask(name, initiative_id=initiative.id))
        for name in ("first", "second")
    )
    runtime.dispatcher.run(initiative.id, max_agents=2, provider=None)
    await runtime.dispatcher.step(initiative.id)

    await runner.finish(first.id)
    merged_first = project.head("cw/auth")
    assert git(origin, "rev-parse", "cw/auth").strip() == merged_first
    [push] = services.repos.projects.find_pushes(initiative.id)
    assert (push.pushed_commit, push.push_error) == (merged_first, None)
    assert services.repos.initiatives.get(initiative.id).status is InitiativeStatus.ACTIVE

    # someone pushes to the branch meanwhile: the next auto-push is refused, the merge stands
    theirs = project.root / "theirs"
    git(project.root, "clone", "--quiet", "--branch", "cw/auth", str(origin), str(theirs))
    (theirs / "theirs.txt").write_text("by hand\n")
    git(theirs, "add", "theirs.txt")
    git(theirs, "commit", "--quiet", "-m", "by hand")
    git(theirs, "push", "--quiet", "origin", "cw/auth")
    done = await runner.finish(second.id)

    assert done is not None and done.status is TaskStatus.COMPLETED
    assert services.repos.initiatives.get(initiative.id).status is InitiativeStatus.COMPLETED
    [push] = services.repos.projects.find_pushes(initiative.id)
    assert push.pushed_commit == merged_first
    assert push.push_error is not None and "diverged" in push.push_error
    assert git(origin, "rev-parse", "cw/auth").strip() == git(theirs, "rev-parse", "HEAD").strip()

    # a task added later reopens the initiative
    services.planning.create_task(NewTask("third", initiative_id=initiative.id))
    assert services.repos.initiatives.get(initiative.id).status is InitiativeStatus.ACTIVE


async def test_a_conflict_blocks_the_task_asks_the_person_and_retry_merges(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(
        services, NewInitiative("Clash", merge_requires_approval=False, branch="cw/auth")
    )
    first, second = (
        services.repos.tasks.create(NewTask(name, initiative_id=initiative.id))
        for name in ("first", "second")
    )
    runtime.dispatcher.run(initiative.id, max_agents=2, provider=None)
    assert len(await runtime.dispatcher.step(initiative.id)) == 2
    await runner.finish(first.id, {"README.md": "first\n"})
    before = project.head(project.initiative_branch)

    blocked = await runner.finish(second.id, {"README.md": "second\n"})

    assert blocked is not None and blocked.status is TaskStatus.BLOCKED
    assert project.head(project.initiative_branch) == before
    [question] = services.human_questions.inbox()
    assert question.task_id == second.id and question.requires_response
    assert (
        "README.md" in question.content and f"cw task retry-merge {second.id}" in question.content
    )

    [agent] = services.repos.agents.find_by_task_id(second.id)
    worktree, _ = runner.worktrees[agent.id]
    git(worktree, "merge", "--quiet", "-X", "ours", project.initiative_branch)  # the fix
    retried = await runtime.landing.retry_merge(second.id)

    assert retried.status is TaskStatus.COMPLETED
    assert project.file_on(project.initiative_branch, "README.md") == "second\n"
    assert services.human_questions.inbox() == []  # the merge answered the question


async def test_a_checkpoint_asks_the_person_and_completes_on_the_reply(
    runner: StandInRunner,
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(services, NewInitiative("Check", branch="cw/auth"))
    check = services.repos.tasks.create(
        NewTask(
            "staging looks right",
            initiative_id=initiative.id,
            type=TaskType.HUMAN_VERIFY,
            description="open https://staging and log in",
        )
    )
    runtime.dispatcher.run(initiative.id, max_agents=1, provider=None)

    assert await runtime.dispatcher.step(initiative.id) == [services.repos.tasks.get(check.id)]
    assert runner.launched == []  # never given to an agent
    [question] = services.human_questions.inbox()
    assert question.task_id == check.id
    assert "Please verify" in question.content and "open https://staging" in question.content

    services.checkpoints.reply(question.id, "verified")

    assert status(services, check) is TaskStatus.COMPLETED
    assert services.human_questions.inbox() == []


async def test_an_agent_that_cannot_start_blocks_its_task_with_a_question(
    runner: StandInRunner,
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(services, NewInitiative("Broken", branch="cw/auth"))
    task = services.repos.tasks.create(NewTask("t", initiative_id=initiative.id))
    runner.fail_with = "provider executable not found: tried /nowhere/claude"
    runtime.dispatcher.run(initiative.id, max_agents=1, provider=None)

    await runtime.dispatcher.step(initiative.id)

    assert status(services, task) is TaskStatus.BLOCKED
    [question] = services.human_questions.inbox()
    assert "tried /nowhere/claude" in question.content


async def test_an_initiative_without_a_project_is_refused_before_anything_runs(
    runner: StandInRunner,
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = services.repos.initiatives.create(NewInitiative("Nowhere", branch="cw/x"))
    services.repos.tasks.create(NewTask("t", initiative_id=initiative.id))

    with pytest.raises(PreconditionFailedError) as refused:
        runtime.dispatcher.run(initiative.id, max_agents=1, provider=None)

    assert f"initiative Nowhere ({initiative.id}) has no project" in refused.value.message
    assert f"cw project link {initiative.id} PROJECT_ID" in refused.value.message
    found = services.repos.initiatives.get(initiative.id)
    assert found.dispatch_status is DispatchStatus.OFF
    assert runner.launched == []


async def test_status_says_what_each_task_waits_for(runner: StandInRunner) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative_id, tasks = plan(services)
    check = services.repos.tasks.create(
        NewTask("sign off", initiative_id=initiative_id, type=TaskType.DECISION)
    )

    def waits() -> dict[str, str | None]:
        initiative = services.repos.initiatives.get(initiative_id)
        situation = gather(
            initiative,
            runtime.dispatcher.plan(initiative_id),
            agents=services.repos.agents,
            conversations=services.repos.conversations,
            messages=services.repos.messages,
            runs=services.repos.agent_runs,
            projects=services.repos.projects,
            ownership=services.repos.ownership,
        )
        found = report(situation)["tasks"]
        return {task["name"]: task["waitingFor"] for state in found.values() for task in state}

    assert waits()["a"] == "dispatch to run (it is off): cw initiative run"
    runtime.dispatcher.run(initiative_id, max_agents=1, provider=None)
    await runtime.dispatcher.step(initiative_id)
    [a_agent] = services.repos.agents.find_by_task_id(tasks["a"].id)
    [question] = services.human_questions.inbox()

    now = waits()
    assert now["a"] == f"agent {a_agent.name} ({a_agent.id}) on task '{tasks['a'].id}' (idle)"
    assert now["b"] == f"task 'a' ({tasks['a'].id}, in_progress)"
    assert now["e"] == f"task 'd' ({tasks['d'].id}, pending)"
    assert now["sign off"] == f"the person's reply to message {question.id} (cw reply)"
    assert check.id == question.task_id

    services.repos.agents.update(a_agent.id, {"status": AgentStatus.RUNNING})
    asked = services.repos.agents.create(NewAgent(".", name="helper"))
    conversation = services.conversations.ask(a_agent.id, "which port?", AgentTarget("helper"))
    assert waits()["a"] == f"agent helper's answer to conversation {conversation.id}"
    assert asked.id == conversation.to_agent_id

    held = services.repos.tasks.create(NewTask("gated", initiative_id=initiative_id))
    services.planning.move_task(held.id, TaskStatus.PENDING_APPROVAL)
    assert waits()["gated"] == f"a person's approval of the merge: cw task approve {held.id}"


async def test_a_paused_initiative_starts_nothing_until_it_runs_again(
    runner: StandInRunner,
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative_id, _ = plan(services)
    runtime.dispatcher.run(initiative_id, max_agents=2, provider=None)
    paused = runtime.dispatcher.pause(initiative_id)
    assert paused.dispatch_status is DispatchStatus.PAUSED

    assert await runtime.dispatcher.step(initiative_id) == []
    assert runner.launched == []
    runtime.dispatcher.run(initiative_id, max_agents=2, provider=None)
    assert [t.name for t in await runtime.dispatcher.step(initiative_id)] == ["a"]


async def test_the_loop_reacts_to_changes_without_waiting_for_its_timer(
    runner: StandInRunner,
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative_id, tasks = plan(services)
    serving = asyncio.create_task(runtime.dispatcher.serve())

    async def launched(count: int) -> list[str]:
        for _ in range(250):  # 5 s, far below the loop's 30 s safety interval
            if len(runner.launched) >= count:
                return [t.name for t in runner.launched]
            await asyncio.sleep(0.02)
        raise AssertionError(f"only {[t.name for t in runner.launched]} launched")

    try:
        runtime.dispatcher.run(initiative_id, max_agents=2, provider=None)  # wakes the loop
        assert await launched(1) == ["a"]
        await runner.finish(tasks["a"].id)  # the task's completion wakes it again
        assert sorted(await launched(3)) == ["a", "b", "c"]
    finally:
        services.changes.close()
        await asyncio.wait_for(serving, 5)


async def test_a_merge_that_fails_otherwise_blocks_the_task_with_the_reason(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(
        services, NewInitiative("Gone", merge_requires_approval=False, branch="cw/auth")
    )
    task = services.repos.tasks.create(NewTask("t", initiative_id=initiative.id))
    runtime.dispatcher.run(initiative.id, max_agents=1, provider=None)
    await runtime.dispatcher.step(initiative.id)
    [agent] = services.repos.agents.find_by_task_id(task.id)
    worktree, branch = runner.worktrees[agent.id]
    git(project.clone, "worktree", "remove", "--force", str(worktree))
    git(project.clone, "branch", "-D", branch)  # the agent's work is gone

    blocked = await runtime.landing.run_succeeded(agent)

    assert blocked is not None and blocked.status is TaskStatus.BLOCKED
    [question] = services.human_questions.inbox()
    assert f"agent branch '{branch}' does not exist" in question.content
    assert f"cw task retry-merge {task.id}" in question.content


async def test_a_failed_run_blocks_the_task_and_a_resumed_success_still_lands(
    runner: StandInRunner, project: Project
) -> None:
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(
        services, NewInitiative("Crash", merge_requires_approval=False, branch="cw/auth")
    )
    task = services.repos.tasks.create(NewTask("t", initiative_id=initiative.id))
    runtime.dispatcher.run(initiative.id, max_agents=1, provider=None)
    await runtime.dispatcher.step(initiative.id)
    [agent] = services.repos.agents.find_by_task_id(task.id)

    blocked = await runtime.landing.run_failed(agent, "crashed (exit code 1)")

    assert blocked is not None and blocked.status is TaskStatus.BLOCKED
    [question] = services.human_questions.inbox()
    assert f"Agent {agent.name} on task 't' ({task.id}) crashed (exit code 1)" in question.content
    assert f"cw agent resume {agent.name}" in question.content
    assert await runtime.dispatcher.step(initiative.id) == []  # blocked: nothing to start

    landed = await runner.finish(task.id)  # resumed by hand, and this time it succeeds
    assert landed is not None and landed.status is TaskStatus.COMPLETED
    assert project.file_on(project.initiative_branch, f"{task.id}.txt") == task.id
    assert services.human_questions.inbox() == []  # the merge answered the question


async def test_crosswalks_own_questions_close_once_their_task_moves_on(
    runner: StandInRunner,
) -> None:
    """Could not start, crashed, a checkpoint done by hand, a task deleted: each question
    crosswalk asked closes, with a note saying why; an agent's own question stays."""
    services, runtime = runner.services, runner.runtime
    assert services is not None and runtime is not None
    initiative = new_initiative(services, NewInitiative("Moves", branch="cw/auth"))
    tasks = {
        name: services.repos.tasks.create(NewTask(name, initiative_id=initiative.id, type=kind))
        for name, kind in (
            ("unstartable", TaskType.AUTO),
            ("crashing", TaskType.AUTO),
            ("check", TaskType.HUMAN_VERIFY),
            ("doomed", TaskType.AUTO),
        )
    }
    runner.fail_with = "the claude executable was not found"
    runtime.dispatcher.run(initiative.id, max_agents=4, provider=None)
    await runtime.dispatcher.step(initiative.id)  # every auto task blocked, check asked
    runner.fail_with = None
    asker = services.repos.agents.create(NewAgent(".", task_id=tasks["crashing"].id))
    services.human_questions.ask(asker.id, "which port?")
    open_about = {
        name: [m.id for m in services.human_questions.inbox() if m.task_id == task.id]
        for name, task in tasks.items()
    }
    assert all(len(ids) == 1 for ids in open_about.values()), open_about
    planning = services.planning

    planning.update_task(tasks["unstartable"].id, {"status": TaskStatus.PENDING})
    planning.update_task(tasks["crashing"].id, {"status": TaskStatus.IN_PROGRESS})  # resumed
    planning.update_task(tasks["check"].id, {"status": TaskStatus.COMPLETED})
    planning.delete_task(tasks["doomed"].id)

    left = services.human_questions.inbox()
    assert [m.content for m in left] == ["which port?"]
    for name, where in (
        ("unstartable", "is now pending"),
        ("crashing", "is now in_progress"),
        ("check", "is now completed"),
        ("doomed", "was deleted"),
    ):
        state = services.human_questions.state(open_about[name][0])
        assert state.responded and state.reply is not None
        assert state.reply.content == (
            f"Closed by crosswalk: task '{name}' ({tasks[name].id}) {where}."
        )
