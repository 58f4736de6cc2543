"""The supervisor's rules, with fakes for git and processes and a real SQLite database:
spawn, output to log chunks, how a run ends, resume, stop, usage limits and account
rotation, reconciliation after a restart, clean-up."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import signal
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.integration.runner.fakes import FakeProcess, FakeProcesses, FakeWorktrees

from crosswalk.db import Repositories, create_repositories
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.clock import SystemClock
from crosswalk.domain.enums import AgentStatus, RunEnd, TaskStatus
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import (
    Account,
    Agent,
    NewAccount,
    NewAgent,
    NewInitiative,
    NewLogChunk,
    NewPhase,
    NewProject,
    NewTask,
    Task,
)
from crosswalk.domain.usage import total
from crosswalk.runner import (
    RunnerServices,
    RunnerSettings,
    SpawnRequest,
    Supervisor,
    default_providers,
)
from crosswalk.services.accounts import AccountService
from crosswalk.services.agents import AgentService
from crosswalk.services.answering import AnsweringService
from crosswalk.services.auth import hash_token
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.logs import LogService
from crosswalk.services.planning import PlanningService
from crosswalk.services.usage import UsageService

T0 = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
INIT = {"type": "system", "subtype": "init", "session_id": "S1", "model": "m"}
SUCCESS = {"type": "result", "subtype": "success", "is_error": False, "result": "done",
           "num_turns": 1, "total_cost_usd": 0.1, "duration_ms": 5}  # fmt: skip
RESETS = datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
LIMIT = {
    "type": "rate_limit_event",
    "rate_limit_info": {"status": "rejected", "resetsAt": int(RESETS.timestamp())},
}
LIMIT_RESULT = {"type": "result", "subtype": "success", "is_error": True,
                "result": "You've hit your 5-hour limit · resets 10pm (UTC)"}  # fmt: skip


@dataclass
class RecordedRunEnds:
    """A ``RunEnds`` that remembers what it was told (dispatch's landing in the server)."""

    told: list[tuple[str, str, AgentStatus, str | None]] = field(default_factory=list)

    async def run_succeeded(self, agent: Agent) -> None:
        self.told.append(("succeeded", agent.id, agent.status, None))

    async def run_failed(self, agent: Agent, reason: str) -> None:
        self.told.append(("failed", agent.id, agent.status, reason))


class HarnessClock(SystemClock):
    """Wall time as the harness sets it (``harness.now``), the rest the system's."""

    def __init__(self, harness: Harness) -> None:
        self._harness = harness

    def now(self) -> datetime:
        return self._harness.now


@dataclass
class Harness:
    engine: Engine
    repos: Repositories
    worktrees: FakeWorktrees
    processes: FakeProcesses
    data: Path
    now: datetime = T0
    sleeps: list[float] = field(default_factory=list)
    wake: asyncio.Event | None = None
    supervisor: Supervisor | None = None
    task: Task | None = None
    missing: set[str] = field(default_factory=set)
    executables: dict[str, str] = field(default_factory=dict)
    server_id: str | None = None
    run_ends: RecordedRunEnds | None = None
    changes: ChangeStream = field(default_factory=ChangeStream)

    def build(self) -> Supervisor:
        async def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.wake = asyncio.Event()
            await self.wake.wait()

        self.supervisor = Supervisor(
            repos=self.repos,
            services=self.services(),
            worktrees=self.worktrees,
            processes=self.processes,
            providers=default_providers(),
            settings=RunnerSettings(
                data_dir=self.data,
                server_url="http://127.0.0.1:9/trpc",
                server_id=self.server_id,
                stop_grace_s=0.2,
                poll_interval_s=0.01,
                executables=self.executables,
                base_env={"PATH": "/usr/bin", "HOME": str(self.data / "home")},
            ),
            now=lambda: self.now,
            sleep=sleep,
            which=lambda name: None if name in self.missing else f"/opt/bin/{Path(name).name}",
            run_ends=self.run_ends,
        )
        return self.supervisor

    def services(self) -> RunnerServices:
        """The real services, each write in a unit of work on the test's database."""
        changes, repos = self.changes, self.repos

        def unit_of_work() -> SqlAlchemyUnitOfWork:
            return SqlAlchemyUnitOfWork(self.engine, publishers=(changes,))

        return RunnerServices(
            agents=AgentService(
                agents=repos.agents,
                tasks=repos.tasks,
                messages=repos.messages,
                conversations=repos.conversations,
                unit_of_work=unit_of_work,
            ),
            planning=PlanningService(
                initiatives=repos.initiatives,
                phases=repos.phases,
                tasks=repos.tasks,
                unit_of_work=unit_of_work,
            ),
            accounts=AccountService(accounts=repos.accounts, unit_of_work=unit_of_work),
            logs=LogService(log_chunks=repos.log_chunks, unit_of_work=unit_of_work),
            usage=UsageService(
                runs=repos.agent_runs, unit_of_work=unit_of_work, clock=HarnessClock(self)
            ),
            answering=AnsweringService(
                runs=repos.answering_runs,
                conversations=repos.conversations,
                unit_of_work=unit_of_work,
            ),
        )

    @property
    def sup(self) -> Supervisor:
        assert self.supervisor is not None
        return self.supervisor

    def agent(self, agent_id: str) -> Agent:
        return self.repos.agents.get(agent_id)

    def agent_by_token(self, token: str) -> Agent | None:
        return self.repos.agents.find_by_token_hash(hash_token(token))

    def last(self) -> FakeProcess:
        return self.processes.launched[-1]

    def account(self, email: str, provider: str = "claude") -> Account:
        return self.repos.accounts.create(
            NewAccount(email=email, provider=provider, credentials=f'{{"token":"{email}"}}')
        )

    async def spawn(self, **fields: Any) -> Agent:
        assert self.task is not None
        return await self.sup.spawn(SpawnRequest(task_id=self.task.id, **fields))


def plan(repos: Repositories, *, project: bool = True) -> Task:
    initiative = repos.initiatives.create(NewInitiative(name="Auth rewrite"))
    phase = repos.phases.create(NewPhase(initiative_id=initiative.id, name="Backend phase"))
    task = repos.tasks.create(
        NewTask(name="Token service", phase_id=phase.id, description="Issue JWTs.\nRotate keys.")
    )
    if project:
        api = repos.projects.create(NewProject(name="api", url="/src/api"))
        repos.projects.add_project_to_initiative(initiative.id, api.id)
    return task


@pytest.fixture
def h(engine: Engine, tmp_path: Path) -> Harness:
    harness = Harness(
        engine, create_repositories(engine), FakeWorktrees(), FakeProcesses(), tmp_path
    )
    harness.task = plan(harness.repos)
    return harness


def run(h: Harness, body: Callable[[], Awaitable[None]]) -> None:
    async def main() -> None:
        h.build()
        try:
            await body()
        finally:
            await h.sup.close()

    asyncio.run(main())


async def until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def relaunched(h: Harness, agent_id: str, what: str) -> None:
    """Until the second run was launched and recorded."""
    await until(
        lambda: len(h.processes.launched) == 2 and h.agent(agent_id).status is AgentStatus.RUNNING,
        what,
    )


async def ends(h: Harness, agent_id: str, status: AgentStatus) -> Agent:
    await until(
        lambda: h.agent(agent_id).status is status and not h.sup.is_running(agent_id),
        f"agent {status}",
    )
    return h.agent(agent_id)


# -- spawn ----------------------------------------------------------------------------


def test_spawn_makes_a_worktree_on_the_agent_branch_and_starts_the_cli(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        assert agent.status is AgentStatus.RUNNING
        [(path, branch, start)] = h.worktrees.added
        assert h.worktrees.prepared == [(h.repos.projects.find_all()[0].id, "cw/auth-rewrite")]
        assert (branch, start) == (f"cw/auth-rewrite--{agent.name}", "cw/auth-rewrite")
        assert path == h.data / "worktrees" / agent.id / "api"
        assert agent.worktree_id == str(path)

        process = h.last()
        assert process.spec.cwd == path
        assert process.spec.argv[:2] == ["/opt/bin/claude", "-p"]
        assert agent.pid == process.handle.pid
        assert agent.process_started_at == process.handle.started_at
        assert agent.output_file_path == str(h.data / "agents" / agent.id / "session-1.jsonl")

        env = process.spec.env
        assert env["CW_URL"] == "http://127.0.0.1:9/trpc"
        assert env["CW_AGENT_ID"] == agent.id
        assert hash_token(env["CW_TOKEN"]) == agent.token_hash
        assert "CLAUDE_CONFIG_DIR" not in env  # no account: the server's own environment

        prompt = process.prompt
        for verbatim in ("Token service", "Issue JWTs.\nRotate keys.", "Backend phase",
                         agent.name, "cw ask", "cw answer"):  # fmt: skip
            assert verbatim in prompt
        assert "crosswalk's own notices never arrive inside a question" in prompt
        assert h.repos.tasks.get(agent.task_id or "").status is TaskStatus.IN_PROGRESS

    run(h, body)


def test_output_becomes_log_chunks_and_a_success_leaves_the_agent_idle(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        process.write(INIT)
        await until(lambda: h.agent(agent.id).session_id == "S1", "the session id")
        process.write({"type": "assistant", "message": {"content": []}}, SUCCESS)
        process.end(0)
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.exit_code == 0
        assert done.result == {
            "subtype": "success", "isError": False, "result": "done", "totalCostUsd": 0.1,
            "numTurns": 1, "durationMs": 5,
        }  # fmt: skip
        chunks = h.repos.log_chunks.find_by_agent_id(agent.id)
        assert "".join(c.content for c in chunks) == Path(process.spec.stdout_path).read_text()
        assert {c.session_number for c in chunks} == {1}
        assert h.repos.tasks.get(agent.task_id or "").status is TaskStatus.COMPLETED

    run(h, body)


def test_a_last_line_without_newline_is_logged_when_the_process_ends(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        process.write(INIT)
        with process.spec.stdout_path.open("a") as out:
            out.write('{"type":"result","subtype":"success","is_error":false,"result":"x"}')
        await asyncio.sleep(0.05)
        assert "result" not in "".join(
            c.content for c in h.repos.log_chunks.find_by_agent_id(agent.id)
        )  # a partial line waits for its end
        process.end(0)
        assert (await ends(h, agent.id, AgentStatus.IDLE)).result["result"] == "x"

    run(h, body)


@pytest.mark.parametrize(
    ("events", "code"),
    [([INIT], 1), ([INIT], 0), ([INIT, {**SUCCESS, "is_error": True}], 1), ([], -9)],
    ids=["non-zero exit", "no result", "error result", "killed"],
)
def test_a_run_without_a_good_result_is_crashed(
    h: Harness, events: list[dict[str, Any]], code: int
) -> None:
    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        process.write(*events)
        process.spec.stderr_path.write_text("Error: something broke\n")
        process.end(code)
        crashed = await ends(h, agent.id, AgentStatus.CRASHED)
        assert crashed.exit_code == code
        assert crashed.result is not None
        if not any(e.get("type") == "result" for e in events):
            assert "something broke" in crashed.result["error"]
            assert "without a result" in crashed.result["error"]
        assert h.repos.tasks.get(agent.task_id or "").status is TaskStatus.IN_PROGRESS

    run(h, body)


def test_spawn_refuses_clearly_and_leaves_nothing_behind(h: Harness) -> None:
    async def body() -> None:
        with pytest.raises(InvalidInputError, match=r"unknown provider 'gpt'.*claude, codex"):
            await h.spawn(provider="gpt")
        h.missing.add("codex")
        with pytest.raises(PreconditionFailedError, match="'codex' on the server's PATH"):
            await h.spawn(provider="codex")
        with pytest.raises(NotFoundError):
            await h.sup.spawn(SpawnRequest(task_id="nope"))
        loose = h.repos.tasks.create(NewTask(name="loose"))
        with pytest.raises(InvalidInputError, match="belongs to no initiative"):
            await h.sup.spawn(SpawnRequest(task_id=loose.id))
        bare = plan(h.repos, project=False)
        with pytest.raises(PreconditionFailedError, match="no project to work in"):
            await h.sup.spawn(SpawnRequest(task_id=bare.id))
        h.worktrees.fail_with = PreconditionFailedError("cannot clone project api: fatal: x")
        with pytest.raises(PreconditionFailedError, match="fatal: x"):
            await h.spawn()
        assert h.repos.agents.find_all() == []
        assert h.processes.launched == []

    run(h, body)


def test_spawn_refuses_a_second_agent_on_the_task_naming_the_first(h: Harness) -> None:
    async def body() -> None:
        first = await h.spawn()
        with pytest.raises(ConflictError, match=f"active agent: {first.name}"):
            await h.spawn()
        assert len(h.repos.agents.find_all()) == 1

    run(h, body)


def test_a_named_executable_path_is_named_in_the_error(h: Harness) -> None:
    h.executables["claude"] = "/custom/claude"
    h.missing.add("/custom/claude")

    async def body() -> None:
        with pytest.raises(PreconditionFailedError, match=r"'/custom/claude'.*CW_CLAUDE_PATH"):
            await h.spawn()

    run(h, body)


# -- accounts -------------------------------------------------------------------------


def test_spawn_writes_the_account_into_a_private_config_dir(h: Harness) -> None:
    async def body() -> None:
        account = h.account("a@example.com")
        agent = await h.spawn()
        assert agent.account_id == account.id
        directory = Path(h.last().spec.env["CLAUDE_CONFIG_DIR"])
        assert directory == h.data / "accounts" / account.id
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        credentials = directory / ".credentials.json"
        assert credentials.read_text() == '{"token":"a@example.com"}'
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600

    run(h, body)


def test_a_named_account_of_another_provider_is_refused(h: Harness) -> None:
    async def body() -> None:
        codex = h.account("c@example.com", provider="codex")
        with pytest.raises(InvalidInputError, match="is a codex account, not claude"):
            await h.spawn(account_id=codex.id)

    run(h, body)


def test_usage_limit_exhausts_the_account_and_resumes_on_the_next(h: Harness) -> None:
    async def body() -> None:
        first, second = h.account("a@example.com"), h.account("b@example.com")
        agent = await h.spawn()
        assert agent.account_id == first.id
        process = h.last()
        # The CLI keeps the transcript in the account's config dir: it must follow the agent.
        transcript = h.data / "accounts" / first.id / "projects" / "-wt" / "S1.jsonl"
        transcript.parent.mkdir(parents=True)
        transcript.write_text('{"turn":1}\n')
        process.write(INIT, LIMIT, LIMIT_RESULT)
        process.end(1)
        await relaunched(h, agent.id, "the resume on the next account")
        exhausted = h.repos.accounts.get(first.id)
        assert exhausted.is_exhausted
        assert exhausted.exhausted_until == RESETS
        resumed = h.last()
        argv = list(resumed.spec.argv)
        assert argv[argv.index("--resume") + 1] == "S1"
        assert resumed.spec.env["CLAUDE_CONFIG_DIR"] == str(h.data / "accounts" / second.id)
        carried = h.data / "accounts" / second.id / "projects" / "-wt" / "S1.jsonl"
        assert carried.read_text() == '{"turn":1}\n'
        now = h.agent(agent.id)
        assert (now.status, now.account_id) == (AgentStatus.RUNNING, second.id)
        assert now.output_file_path is not None and now.output_file_path.endswith("session-2.jsonl")
        resumed.write({**INIT}, SUCCESS)
        resumed.end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        sessions = {c.session_number for c in h.repos.log_chunks.find_by_agent_id(agent.id)}
        assert sessions == {1, 2}

    run(h, body)


def test_with_no_account_left_the_agent_waits_then_resumes_by_itself(h: Harness) -> None:
    async def body() -> None:
        only = h.account("a@example.com")
        agent = await h.spawn()
        h.last().write(INIT, LIMIT, LIMIT_RESULT)
        h.last().end(1)
        await until(lambda: bool(h.sleeps), "the wait for an account")
        waiting = h.agent(agent.id)
        assert waiting.status is AgentStatus.IDLE
        assert waiting.result["waitingForAccount"] is True
        assert waiting.result["resumesAt"] == "2026-11-29T22:00:00.000Z"
        assert h.sleeps == [(RESETS - T0).total_seconds()]
        assert len(h.processes.launched) == 1

        h.now = RESETS + timedelta(seconds=1)
        assert h.wake is not None
        h.wake.set()
        await relaunched(h, agent.id, "the resume after the reset")
        assert h.repos.accounts.get(only.id).is_exhausted is False
        argv = list(h.last().spec.argv)
        assert argv[argv.index("--resume") + 1] == "S1"
        assert h.agent(agent.id).status is AgentStatus.RUNNING

    run(h, body)


def test_a_waiting_agent_is_rearmed_after_a_restart(h: Harness) -> None:
    async def body() -> None:
        h.account("a@example.com")
        agent = await h.spawn()
        h.last().write(INIT, LIMIT, LIMIT_RESULT)
        h.last().end(1)
        await until(lambda: bool(h.sleeps), "the wait for an account")
        await h.sup.close()
        h.sleeps.clear()
        h.build()
        await h.sup.start()
        await until(lambda: bool(h.sleeps), "the re-armed wait")
        h.now = RESETS
        assert h.wake is not None
        h.wake.set()
        await relaunched(h, agent.id, "the resume")
        assert h.agent(agent.id).status is AgentStatus.RUNNING

    run(h, body)


# -- resume and stop ------------------------------------------------------------------


def test_resume_runs_the_session_again_as_the_next_log_session(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        h.last().write(INIT, SUCCESS)
        h.last().end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        first_token = h.last().spec.env["CW_TOKEN"]

        resumed = await h.sup.resume(agent.id, "now the tests")
        assert resumed.status is AgentStatus.RUNNING
        process = h.last()
        argv = list(process.spec.argv)
        assert argv[argv.index("--resume") + 1] == "S1"
        assert process.prompt == "now the tests"
        assert process.spec.env["CW_TOKEN"] != first_token
        assert hash_token(process.spec.env["CW_TOKEN"]) == h.agent(agent.id).token_hash
        process.write({**INIT, "session_id": "S1b"}, SUCCESS)
        process.end(0)
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.session_id == "S1b"
        assert h.repos.log_chunks.get_session_count(agent.id) == 2

        await h.sup.resume(agent.id)
        with pytest.raises(ConflictError, match="is running"):
            await h.sup.resume(agent.id)

    run(h, body)


def test_each_run_is_recorded_with_its_own_usage_and_totals_add_up(h: Harness) -> None:
    """The result is overwritten by every run; the runs table keeps each one's cost."""

    async def body() -> None:
        h.account("a@example.com")
        h.account("b@example.com")
        agent = await h.spawn()
        [first] = h.repos.agent_runs.find(agent_id=agent.id)
        assert (first.session_number, first.started_at, first.ended_at) == (1, T0, None)
        assert (first.task_id, first.initiative_id) == (agent.task_id, agent.initiative_id)
        h.now = T0 + timedelta(seconds=30)
        h.last().write(INIT, LIMIT, {**LIMIT_RESULT, "total_cost_usd": 0.05, "num_turns": 1})
        h.last().end(1)
        await relaunched(h, agent.id, "the resume on the next account")
        h.now = T0 + timedelta(seconds=50)
        tokens = {"input_tokens": 10, "output_tokens": 20,
                  "cache_creation_input_tokens": 30, "cache_read_input_tokens": 40}  # fmt: skip
        h.last().write(INIT, {**SUCCESS, "usage": tokens})
        h.last().end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        await h.sup.resume(agent.id, "and the docs")
        h.now = T0 + timedelta(seconds=80)
        stopped = await h.sup.stop(agent.id)
        assert stopped.status is AgentStatus.STOPPED

        runs = h.repos.agent_runs.find(agent_id=agent.id)
        assert [(r.session_number, r.outcome) for r in runs] == [
            (1, RunEnd.USAGE_LIMIT), (2, RunEnd.SUCCEEDED), (3, RunEnd.STOPPED),
        ]  # fmt: skip
        assert [r.cost_usd for r in runs] == [0.05, 0.1, None]
        # the CLI's own duration when it gave one, else the time the server saw it run
        assert [r.duration_ms for r in runs] == [30_000, 5, 30_000]
        totals = total(runs, h.now)
        assert totals.cost_usd == pytest.approx(0.15)
        assert (totals.runs, totals.running, totals.turns, totals.run_ms) == (3, 0, 2, 60_005)
        assert (totals.input_tokens, totals.output_tokens) == (10, 20)
        assert (totals.cache_creation_tokens, totals.cache_read_tokens) == (30, 40)

    run(h, body)


def test_resume_needs_a_session_and_a_worktree(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        h.last().end(1)
        await ends(h, agent.id, AgentStatus.CRASHED)
        with pytest.raises(PreconditionFailedError, match="no session to resume"):
            await h.sup.resume(agent.id)

    run(h, body)


def test_stop_terminates_the_group_and_marks_the_agent_stopped(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        stopped = await h.sup.stop(agent.id)
        assert process.signals == [signal.SIGTERM]
        assert (stopped.status, stopped.exit_code) == (AgentStatus.STOPPED, -signal.SIGTERM)

    run(h, body)


def test_stop_kills_an_agent_that_ignores_sigterm(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        process.ignores_term = True
        stopped = await h.sup.stop(agent.id)
        assert process.signals == [signal.SIGTERM, signal.SIGKILL]
        assert stopped.status is AgentStatus.STOPPED

    run(h, body)


# -- restart --------------------------------------------------------------------------


def running_agent(h: Harness, pid: int, started_at: int, session: int = 1) -> Agent:
    assert h.task is not None
    agent = h.repos.agents.create(
        NewAgent(worktree_id=str(h.data), task_id=h.task.id, status=AgentStatus.RUNNING)
    )
    output = h.data / "agents" / agent.id / f"session-{session}.jsonl"
    output.parent.mkdir(parents=True)
    output.touch()
    return h.repos.agents.update(
        agent.id,
        {"pid": pid, "process_started_at": started_at, "output_file_path": str(output)},
    )


def test_a_live_process_is_adopted_and_followed_from_where_the_log_stopped(h: Harness) -> None:
    async def body() -> None:
        agent = running_agent(h, 4242, 777)
        process = h.processes.adopt(4242, 777, Path(agent.output_file_path or ""))
        process.write(INIT)
        # What the previous server stored before it died.
        logged = Path(agent.output_file_path or "").read_text()
        h.repos.log_chunks.insert_chunk(
            NewLogChunk(agent_id=agent.id, agent_name=agent.name, content=logged)
        )
        process.write(SUCCESS)
        await h.sup.start()
        assert h.sup.is_running(agent.id)
        process.end(None)  # not our child: its exit code is unknown
        done = await ends(h, agent.id, AgentStatus.IDLE)
        assert done.result["result"] == "done"
        contents = [c.content for c in h.repos.log_chunks.find_by_agent_id(agent.id)]
        assert "".join(contents) == Path(agent.output_file_path or "").read_text()
        assert len(contents) == 2  # nothing logged twice

    run(h, body)


@pytest.mark.parametrize(("events", "status"), [([INIT, SUCCESS], AgentStatus.IDLE),
                                                ([INIT], AgentStatus.CRASHED)])  # fmt: skip
def test_a_dead_process_is_marked_by_what_its_output_shows(
    h: Harness, events: list[dict[str, Any]], status: AgentStatus
) -> None:
    async def body() -> None:
        agent = running_agent(h, 4243, 888)  # no such process any more
        with Path(agent.output_file_path or "").open("a") as out:
            out.writelines(json.dumps(event) + "\n" for event in events)
        await h.sup.start()
        assert (await ends(h, agent.id, status)).status is status

    run(h, body)


def test_a_reused_pid_is_not_mistaken_for_the_agent(h: Harness) -> None:
    async def body() -> None:
        agent = running_agent(h, 4244, 999)
        stranger = h.processes.adopt(4244, 12345, Path(agent.output_file_path or ""))
        await h.sup.start()
        crashed = await ends(h, agent.id, AgentStatus.CRASHED)
        assert crashed.status is AgentStatus.CRASHED
        await h.sup.stop(agent.id)
        assert stranger.signals == []  # never signalled
        assert not stranger.ended

    run(h, body)


def test_an_agent_registered_by_hand_is_left_alone_on_start(h: Harness) -> None:
    async def body() -> None:
        assert h.task is not None
        agent = h.repos.agents.create(
            NewAgent(worktree_id=".", task_id=h.task.id, status=AgentStatus.RUNNING, pid=4245)
        )
        await h.sup.start()
        assert not h.sup.is_running(agent.id)
        assert h.agent(agent.id).status is AgentStatus.RUNNING

    run(h, body)


def test_an_agent_registered_by_hand_saying_it_waits_for_an_account_is_not_started(
    h: Harness,
) -> None:
    """``result`` is the agent's own to set: it must not make the runner launch a CLI."""

    async def body() -> None:
        assert h.task is not None
        agent = h.repos.agents.create(
            NewAgent(worktree_id=str(h.data), task_id=h.task.id, session_id="S1")
        )
        h.repos.agents.update(agent.id, {"result": {"waitingForAccount": True}})
        await h.sup.start()
        await asyncio.sleep(0.05)  # an armed alarm would be sleeping by now
        assert h.sleeps == []
        assert h.processes.launched == []

    run(h, body)


def test_a_restart_reconciles_only_this_servers_agents(h: Harness) -> None:
    """Several servers share a database: each records the agents it spawns under its
    ``server_id`` and, after a restart, follows only those, leaving another server's
    running agents to it (not adopted, not marked crashed)."""
    h.server_id = "a:7878"

    async def body() -> None:
        spawned = await h.spawn()
        assert h.agent(spawned.id).server_id == "a:7878"
        await h.sup.stop(spawned.id)
        mine = running_agent(h, 4247, 555)
        theirs = running_agent(h, 4248, 556)
        h.repos.agents.update(mine.id, {"server_id": "a:7878"})
        h.repos.agents.update(theirs.id, {"server_id": "b:7878"})
        for agent in (mine, theirs):
            h.processes.adopt(agent.pid or 0, agent.process_started_at or 0,
                              Path(agent.output_file_path or ""))  # fmt: skip
        await h.sup.start()
        assert h.sup.is_running(mine.id)
        assert not h.sup.is_running(theirs.id)
        assert h.agent(theirs.id).status is AgentStatus.RUNNING

    run(h, body)


def test_an_agent_another_server_holds_is_resumed_and_stopped_only_there(h: Harness) -> None:
    """Its session and worktree are on that server: the error names it and its URL."""
    h.server_id = "a"

    async def body() -> None:
        h.repos.servers.register("b", "http://10.0.0.12:7878/trpc", 4, False)
        spawned = await h.spawn()
        h.repos.agents.update(spawned.id, {"server_id": "b"})
        with pytest.raises(PreconditionFailedError) as stopping:
            await h.sup.stop(spawned.id)
        assert "runs on server b" in stopping.value.message
        assert "CW_URL=http://10.0.0.12:7878/trpc" in stopping.value.message
        assert h.last().signals == []  # nothing signalled on this machine
        h.repos.agents.update(spawned.id, {"server_id": "a"})
        h.last().end(0)
        await ends(h, spawned.id, AgentStatus.CRASHED)
        h.repos.agents.update(spawned.id, {"server_id": "b", "session_id": "S1"})
        with pytest.raises(PreconditionFailedError, match="can be resumed only there"):
            await h.sup.resume(spawned.id)

    run(h, body)


def test_a_run_another_server_ended_is_stopped_and_records_nothing(h: Harness) -> None:
    """This server lost its lease: another one marked its agent crashed and handed the
    task back to dispatch. The run here is stopped, and its end is not recorded over
    that (no idle, no landing)."""
    h.server_id = "a"
    h.run_ends = RecordedRunEnds()

    async def body() -> None:
        agent = await h.spawn()
        process = h.last()
        assert await h.sup.release_taken() == []  # still running: kept
        reaped = {"status": AgentStatus.CRASHED, "result": {"error": "its server a stopped"}}
        h.repos.agents.update(agent.id, reaped)  # type: ignore[arg-type]
        process.write(INIT, SUCCESS)
        assert await h.sup.release_taken() == [agent.id]
        assert process.signals == [signal.SIGTERM]
        await h.sup.wait_ended(agent.id)
        after = h.agent(agent.id)
        assert after.status is AgentStatus.CRASHED
        assert after.result == {"error": "its server a stopped"}
        assert h.run_ends is not None and h.run_ends.told == []

    run(h, body)


def test_a_restart_stops_the_process_of_an_agent_another_server_took(h: Harness) -> None:
    """The server was down past its lease: another one marked its agent crashed and
    dispatched the task again. The agent's process still runs here; the restart stops
    it instead of adopting it, so the task does not run twice."""
    h.server_id = "a"

    async def body() -> None:
        taken = running_agent(h, 4250, 560)
        gone = running_agent(h, 4251, 561)
        crashed = {"status": AgentStatus.CRASHED, "server_id": "a"}
        for agent in (taken, gone):
            h.repos.agents.update(agent.id, crashed)  # type: ignore[arg-type]
        process = h.processes.adopt(4250, 560, Path(taken.output_file_path or ""))
        await h.sup.start()
        assert process.signals == [signal.SIGTERM]
        assert not h.sup.is_running(taken.id)
        assert h.agent(taken.id).status is AgentStatus.CRASHED

    run(h, body)


def test_an_agent_started_here_without_an_output_file_is_crashed_on_start(h: Harness) -> None:
    async def body() -> None:
        assert h.task is not None
        agent = h.repos.agents.create(
            NewAgent(worktree_id=".", task_id=h.task.id, status=AgentStatus.RUNNING, pid=4246)
        )
        h.repos.agents.update(agent.id, {"process_started_at": 5})
        await h.sup.start()
        crashed = h.agent(agent.id)
        assert crashed.status is AgentStatus.CRASHED
        assert "no process or output file recorded" in crashed.result["error"]

    run(h, body)


def test_closing_leaves_agents_running_for_the_next_server(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        await h.sup.close()
        assert h.last().signals == []
        assert h.agent(agent.id).status is AgentStatus.RUNNING

    run(h, body)


# -- clean ----------------------------------------------------------------------------


def test_clean_removes_worktrees_of_agents_that_no_longer_run(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        with pytest.raises(ConflictError, match="stop it first"):
            await h.sup.clean(agent.id)
        assert await h.sup.clean() == []
        await h.sup.stop(agent.id)
        [cleaned] = await h.sup.clean()
        assert cleaned.worktrees == [agent.worktree_id]
        assert h.worktrees.removed == [(Path(agent.worktree_id), False)]
        assert not (h.data / "worktrees" / agent.id).exists()

        orphan = h.data / "worktrees" / "deleted-agent" / "api"
        orphan.mkdir(parents=True)
        [gone] = await h.sup.clean()
        assert (gone.agent_id, gone.agent_name) == ("deleted-agent", None)

    run(h, body)


def test_delete_stops_the_agent_and_removes_its_worktrees(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        await h.sup.delete(agent.id)
        assert h.last().signals == [signal.SIGTERM]
        assert h.worktrees.removed == [(Path(agent.worktree_id), False)]

    run(h, body)


def test_each_end_of_a_run_is_told_after_the_agent_row_says_so(h: Harness) -> None:
    h.run_ends = RecordedRunEnds()
    told = h.run_ends.told

    def next_task(name: str) -> None:
        assert h.task is not None
        h.task = h.repos.tasks.create(NewTask(name, phase_id=h.task.phase_id))

    async def body() -> None:
        good = await h.spawn()
        h.last().write(INIT, SUCCESS)
        h.last().end(0)
        await ends(h, good.id, AgentStatus.IDLE)
        await until(lambda: len(told) == 1, "the success to be told")
        assert told == [("succeeded", good.id, AgentStatus.IDLE, None)]
        # with a listener, landing the work is its business: the task is left as it was
        assert h.repos.tasks.get(good.task_id or "").status is TaskStatus.IN_PROGRESS

        next_task("crashes")
        bad = await h.spawn()
        h.last().write(INIT)
        h.last().end(3)
        await ends(h, bad.id, AgentStatus.CRASHED)
        await until(lambda: len(told) == 2, "the crash to be told")
        assert told[1] == (
            "failed", bad.id, AgentStatus.CRASHED,
            "crashed (its process exited with code 3 without a result)",
        )  # fmt: skip

        next_task("is stopped")
        stopped = await h.spawn()
        await h.sup.stop(stopped.id)
        await until(lambda: len(told) == 3, "the stop to be told")
        assert told[2] == ("failed", stopped.id, AgentStatus.STOPPED, "was stopped")

    run(h, body)


# -- a run's token ---------------------------------------------------------------------


def _token_works(h: Harness, process: FakeProcess) -> bool:
    return h.agent_by_token(process.spec.env["CW_TOKEN"]) is not None


def test_a_runs_token_lives_as_long_as_the_run(h: Harness) -> None:
    """Each run gets a fresh token; however it ends (idle, crashed, stopped, waiting for
    an account) the token stops working, and the agent holds none between runs."""

    async def body() -> None:
        h.account("a@example.com")
        agent = await h.spawn()
        runs = [h.last()]
        assert _token_works(h, runs[-1])
        runs[-1].write(INIT, SUCCESS)
        runs[-1].end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        assert h.agent(agent.id).token_hash is None

        for end in ("crash", "stop", "usage limit"):
            await h.sup.resume(agent.id)
            runs.append(h.last())
            assert _token_works(h, runs[-1])
            assert not any(_token_works(h, earlier) for earlier in runs[:-1])
            if end == "crash":
                runs[-1].end(1)
                await ends(h, agent.id, AgentStatus.CRASHED)
            elif end == "stop":
                await h.sup.stop(agent.id)
            else:
                runs[-1].write(INIT, LIMIT, LIMIT_RESULT)
                runs[-1].end(1)
                await until(lambda: bool(h.sleeps), "the wait for an account")
            assert h.agent(agent.id).token_hash is None, end
        assert len({run.spec.env["CW_TOKEN"] for run in runs}) == len(runs)

    run(h, body)


def test_a_resume_that_cannot_start_leaves_no_token(h: Harness) -> None:
    async def body() -> None:
        agent = await h.spawn()
        h.last().write(INIT, SUCCESS)
        h.last().end(0)
        await ends(h, agent.id, AgentStatus.IDLE)
        h.processes.fail_with = PermissionError(13, "Permission denied")
        with pytest.raises(PreconditionFailedError, match="Permission denied"):
            await h.sup.resume(agent.id)
        assert h.agent(agent.id).token_hash is None

    run(h, body)


def test_a_hand_registered_agent_keeps_its_token_when_stopped(h: Harness) -> None:
    async def body() -> None:
        assert h.task is not None
        agent, token = h.services().agents.register(NewAgent(worktree_id=".", task_id=h.task.id))
        stopped = await h.sup.stop(agent.id)
        assert stopped.status is AgentStatus.STOPPED
        assert h.agent_by_token(token) is not None

    run(h, body)


# -- the runner reads only its own files ----------------------------------------------

SECRET = "cw_the-admin-token-itself"


def _victim_output(h: Harness) -> Path:
    """Another agent's session file, which names its session and holds a secret."""
    victim = running_agent(h, 5000, 5000)
    path = Path(victim.output_file_path or "")
    path.write_text(json.dumps({**INIT, "session_id": "VICTIM"}) + "\n" + SECRET + "\n")
    return path


def _attacker(h: Harness, output: Path | str) -> Agent:
    """An agent recorded as running (its process long gone) with ``output`` as its file."""
    agent = running_agent(h, 4250, 1)
    h.repos.agents.update(agent.id, {"session_id": "MINE"})
    return h.repos.agents.update(agent.id, {"output_file_path": str(output)})


def _nothing_read(h: Harness, agent: Agent, caplog: pytest.LogCaptureFixture) -> None:
    done = h.agent(agent.id)
    assert done.status is AgentStatus.CRASHED
    assert "not read" in done.result["error"]
    assert done.session_id == "MINE"
    assert h.repos.log_chunks.find_by_agent_id(agent.id) == []
    assert SECRET not in json.dumps(done.result)
    assert any("not read" in r.getMessage() and agent.id in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "where",
    [
        "another agent's session file",
        "a symlink named like its own session file",
        "its own session file, in a directory that is a symlink",
        "a symlink in its worktree",
    ],
)
def test_a_recorded_output_file_that_is_not_the_runners_own_is_never_read(
    h: Harness, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    async def body() -> None:
        victim = _victim_output(h)
        secret = h.data / "admin-token"
        secret.write_text(SECRET + "\n")
        attacker = _attacker(h, victim)
        own_dir = h.data / "agents" / attacker.id
        if where == "a symlink named like its own session file":
            (own_dir / "session-2.jsonl").symlink_to(secret)
            h.repos.agents.update(
                attacker.id, {"output_file_path": str(own_dir / "session-2.jsonl")}
            )
        elif where == "its own session file, in a directory that is a symlink":
            shutil.rmtree(own_dir)
            own_dir.symlink_to(victim.parent)
            h.repos.agents.update(
                attacker.id, {"output_file_path": str(own_dir / "session-1.jsonl")}
            )
        elif where == "a symlink in its worktree":
            planted = h.data / "worktree" / "session-1.jsonl"
            planted.parent.mkdir()
            planted.symlink_to(secret)
            h.repos.agents.update(attacker.id, {"output_file_path": str(planted)})
        with caplog.at_level(logging.WARNING, "crosswalk.runner"):
            await h.sup.start()
            await until(lambda: not h.sup.is_running(attacker.id) and h.agent(attacker.id).status
                        is AgentStatus.CRASHED, "the refusal")  # fmt: skip
        _nothing_read(h, attacker, caplog)

    run(h, body)


def test_a_crashed_runs_stderr_is_not_read_through_a_symlink(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    async def body() -> None:
        secret = h.data / "admin-token"
        secret.write_text(SECRET + "\n")
        agent = await h.spawn()
        process = h.last()
        process.spec.stderr_path.unlink(missing_ok=True)
        process.spec.stderr_path.symlink_to(secret)
        with caplog.at_level(logging.WARNING, "crosswalk.runner"):
            process.end(1)
            crashed = await ends(h, agent.id, AgentStatus.CRASHED)
        assert SECRET not in json.dumps(crashed.result)
        assert any("not read" in r.getMessage() for r in caplog.records)

    run(h, body)


def test_directories_an_older_version_left_open_are_tightened_on_start(h: Harness) -> None:
    for name in ("agents", "worktrees", "projects", "accounts", "merges"):
        (h.data / name).mkdir(mode=0o755)
        (h.data / name).chmod(0o755)

    async def body() -> None:
        await h.sup.start()

    run(h, body)
    for name in ("agents", "worktrees", "projects", "accounts", "merges"):
        assert stat.S_IMODE((h.data / name).stat().st_mode) == 0o700, name
