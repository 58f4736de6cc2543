"""The supervisor: spawns agents in worktrees, follows their output, records how
they end, resumes them (on another account after a usage limit) and stops them. It
also runs answering runs: an idle agent resumed in its own session only to answer the
questions waiting for it (``answer``; when, is ``runner.answering``'s call).

It is the one writer of an agent's run state (``pid``, ``process_started_at``,
``exit_code``, ``session_id``, ``output_file_path`` and a running agent's
``status``), and of its token: issued as each run starts (``RunRecorder.issue_token``
in ``_launch``, which every spawn and resume goes through) and revoked as each run
ends (``RunRecorder.run_ended``, which every end goes through). Git and processes sit
behind ports (``crosswalk.runner.ports``), so its rules are tested with fakes. The
lifecycle is drawn in ``docs/runner.md``.

Blocking work (git, reading output files, writing config directories) runs in
threads. Database work goes through ``offload`` (``crosswalk.services.offload``): inline
on SQLite, on the database threads on PostgreSQL, never on the loop there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from crosswalk.db.repositories import Repositories
from crosswalk.domain.accounts import is_exhausted
from crosswalk.domain.enums import (
    ENDED_AGENT_STATUSES,
    LIVE_AGENT_STATUSES,
    AgentMode,
    AgentStatus,
    RunEnd,
    TaskStatus,
)
from crosswalk.domain.errors import (
    ConflictError,
    CrosswalkError,
    InvalidInputError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import (
    Account,
    Agent,
    AgentUpdate,
    AnsweringRun,
    Conversation,
    Initiative,
    NewAgent,
    Project,
    Task,
)
from crosswalk.domain.timestamps import to_iso, utcnow
from crosswalk.fsmodes import PRIVATE_DIR, private_dir, tighten
from crosswalk.runner.accounts import write_account_dir
from crosswalk.runner.alarms import Alarms
from crosswalk.runner.drain import Drained, OutputDrain
from crosswalk.runner.layout import DataLayout
from crosswalk.runner.output import ForeignFileError, tail_text
from crosswalk.runner.ports import (
    LaunchSpec,
    Processes,
    ProcessExit,
    ProcessHandle,
    RunEnds,
    Worktrees,
    WorktreeState,
)
from crosswalk.runner.prompt import (
    RESUME_PROMPT,
    AskedQuestion,
    build_answering_prompt,
    build_prompt,
)
from crosswalk.runner.providers import (
    Provider,
    RunOptions,
    RunOutcome,
    StreamReader,
    UsageLimit,
)
from crosswalk.runner.recorder import RunnerServices, RunRecorder
from crosswalk.runner.settings import RunnerSettings
from crosswalk.runner.stopping import terminate
from crosswalk.runner.workspaces import Workspaces
from crosswalk.services.documents import projects_to_work_in
from crosswalk.services.offload import InlineOffload, Offload

logger = logging.getLogger("crosswalk.runner")

#: How long an account stays exhausted when the CLI did not say when it resets.
DEFAULT_LIMIT_WAIT = timedelta(hours=1)
#: An agent's ``result`` while it waits for an account to become available.
WAITING_FOR_ACCOUNT = "waitingForAccount"
#: Questions one answering run's prompt lists at most (its hooks show the rest).
MAX_PROMPT_QUESTIONS = 20


class AccountsExhaustedError(PreconditionFailedError):
    """Every account of the provider is exhausted until ``until``."""

    def __init__(self, provider: str, until: datetime) -> None:
        super().__init__(
            f"every {provider} account is exhausted until {to_iso(until)}; the agent waits for one"
        )
        self.until = until


@dataclass(frozen=True, slots=True)
class SpawnRequest:
    task_id: str
    provider: str | None = None
    account_id: str | None = None
    mode: AgentMode = AgentMode.EXECUTE
    prompt: str | None = None


@dataclass(frozen=True, slots=True)
class CleanedAgent:
    agent_id: str
    agent_name: str | None
    worktrees: list[str]


@dataclass
class _Run:
    """One run of an agent's process that this server follows."""

    agent: Agent
    provider: Provider
    handle: ProcessHandle
    reader: StreamReader
    session: int
    output: Path
    offset: int = 0
    stopping: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    #: An answering run: its record (None: a run of the agent's own work).
    answering: AnsweringRun | None = None
    #: The agent's worktrees when an answering run started (what it changes is told).
    worktrees_before: dict[Path, WorktreeState] | None = None
    #: Why an answering run was stopped when it took too long (None: by a person).
    stop_reason: str | None = None
    #: Another server ended the agent while this one had lost its lease: the run is
    #: stopped and nothing of its end is recorded.
    taken: bool = False
    #: The session id recorded for the agent (its output naming another is written).
    session_id: str | None = None


Sleep = Callable[[float], Awaitable[None]]
Which = Callable[[str], str | None]


class Supervisor:
    def __init__(
        self,
        *,
        repos: Repositories,
        services: RunnerServices,
        worktrees: Worktrees,
        processes: Processes,
        providers: Mapping[str, Provider],
        settings: RunnerSettings,
        now: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
        which: Which = shutil.which,
        run_ends: RunEnds | None = None,
        offload: Offload | None = None,
    ) -> None:
        self._repos = repos
        self._offload = offload or InlineOffload()
        #: None: a successful run completes its task (no merge, no approval).
        self._run_ends = run_ends
        self._record = RunRecorder(services, now)
        self._worktrees = worktrees
        self._processes = processes
        self._providers = providers
        self._settings = settings
        self._layout = DataLayout(settings.data_dir)
        self._workspaces = Workspaces(worktrees, self._layout)
        self._now = now
        self._which = which
        self._runs: dict[str, _Run] = {}
        #: Agents whose process this runner started or followed (see ``started_here``).
        self._started: set[str] = set()
        self._alarms = Alarms(self._resume_waiting, now, sleep)
        self._drain = OutputDrain(processes, self._store_output, settings.poll_interval_s)

    # -- what the procedures call ------------------------------------------------------

    async def spawn(self, request: SpawnRequest) -> Agent:
        """A new agent on the task, in new worktrees, running. Checks everything it can
        before it writes; if anything after that fails, nothing is left behind."""
        task, initiative, projects, provider, executable, account, agent = await self._offload(
            self._new_agent, request
        )
        try:
            worktree = await asyncio.to_thread(self._workspaces.create, agent, initiative, projects)
            agent, prompt = await self._offload(self._placed, agent, task, worktree, request.prompt)
            return await self._launch(agent, provider, executable, account, prompt, None)
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._workspaces.remove, agent.id, True)
            with contextlib.suppress(Exception):
                await self._offload(self._record.discard_agent, agent.id)
            raise

    def _new_agent(
        self, request: SpawnRequest
    ) -> tuple[Task, Initiative, list[Project], Provider, str, Account | None, Agent]:
        """``spawn``'s checks and its new agent's row (no worktree yet)."""
        repos = self._repos
        task = repos.tasks.get(request.task_id)
        if task.initiative_id is None:
            raise InvalidInputError(
                f"task '{task.name}' ({task.id}) belongs to no initiative, so there is no "
                "repository to work in; create it in a phase of an initiative",
                field="taskId",
            )
        initiative = repos.initiatives.get(task.initiative_id)
        projects = projects_to_work_in(repos.projects, initiative)
        provider = self._provider(request.provider or "claude")
        executable = self._executable(provider)
        account = self._named_account(provider, request.account_id)
        active = repos.agents.find_active_by_task_id(task.id)
        if active:
            other = active[0]
            raise ConflictError(
                f"task '{task.name}' ({task.id}) already has an active agent: {other.name} "
                f"({other.id}, {other.status.value}); stop it with 'cw agent stop {other.name}' or "
                f"resume it with 'cw agent resume {other.name}'"
            )
        if account is None:
            account = self._record.next_account(provider.name)
        agent = self._record.create_agent(
            NewAgent(
                worktree_id=".",
                task_id=task.id,
                initiative_id=initiative.id,
                provider=provider.name,
                mode=request.mode,
                account_id=None if account is None else account.id,
                server_id=self._settings.server_id,  # its worktrees are made here
            )
        )
        return task, initiative, projects, provider, executable, account, agent

    def _placed(
        self, agent: Agent, task: Task, worktree: Path, extra: str | None
    ) -> tuple[Agent, str]:
        """The new agent with its worktree recorded, and its prompt."""
        agent = self._record.agent(agent.id, {"worktree_id": str(worktree)})
        phase = self._repos.phases.get(task.phase_id) if task.phase_id else None
        return agent, build_prompt(agent, task, phase, extra)

    async def resume(self, agent_id: str, message: str | None = None) -> Agent:
        """Run the agent again in its session (``--resume``), with ``message`` as the
        prompt (default: carry on). Its account is kept unless it is exhausted."""
        agent = await self._offload(self._repos.agents.get, agent_id)
        await self._offload(self._require_here, agent, "resumed")
        if agent.id in self._runs or agent.status in LIVE_AGENT_STATUSES:
            raise ConflictError(f"agent {agent.name} is running; stop it before resuming it")
        if agent.session_id is None:
            raise PreconditionFailedError(
                f"agent {agent.name} has no session to resume (it never started one); "
                "spawn a new agent on its task instead"
            )
        if not Path(agent.worktree_id).is_dir():
            raise PreconditionFailedError(
                f"the worktree of agent {agent.name} is gone ({agent.worktree_id}); "
                "spawn a new agent on its task instead"
            )
        provider = self._provider(agent.provider)
        executable = self._executable(provider)
        self._alarms.cancel(agent.id)
        account = await self._offload(self._resume_account, agent, provider)
        return await self._relaunch(agent, provider, executable, account, message)

    async def stop(self, agent_id: str) -> Agent:
        """SIGTERM to the agent's process group, SIGKILL after the grace period; the
        agent ends ``stopped``. An agent without a process is marked stopped."""
        agent = await self._offload(self._repos.agents.get, agent_id)
        if agent.status in LIVE_AGENT_STATUSES and agent.process_started_at is not None:
            await self._offload(self._require_here, agent, "stopped")
        self._alarms.cancel(agent.id)
        run = self._runs.get(agent.id)
        grace, poll = self._settings.stop_grace_s, self._settings.poll_interval_s
        if run is not None:
            run.stopping = True
            await terminate(
                self._processes, run.handle, run.done.is_set, grace_s=grace, poll_s=poll
            )
            await run.done.wait()
            return await self._offload(self._repos.agents.get, agent.id)
        if agent.status in LIVE_AGENT_STATUSES and agent.pid is not None:
            # Believed running but not followed: only a process with the recorded
            # start time is signalled.
            handle = self._handle_of(agent)
            ended = lambda: self._processes.poll(handle) is not None  # noqa: E731
            await terminate(self._processes, handle, ended, grace_s=grace, poll_s=poll)
        if agent.status in ENDED_AGENT_STATUSES:
            return agent
        stopped = await self._offload(self._mark_stopped, agent)
        await self._ended_badly(stopped, "was stopped")
        return stopped

    def _mark_stopped(self, agent: Agent) -> Agent:
        if agent.process_started_at is None:  # registered by hand: its token is its own
            return self._record.agent(agent.id, {"status": AgentStatus.STOPPED})
        self._record.runs_closed(agent, RunEnd.STOPPED)
        return self._record.run_ended(agent.id, {"status": AgentStatus.STOPPED})

    async def clean(
        self, agent_id: str | None = None, *, delete_branch: bool = False, idle: bool = False
    ) -> list[CleanedAgent]:
        """Remove worktrees: of the agent named (which must not be running, nor idle
        unless ``idle``: an idle agent is resumed in its worktree to answer questions),
        else of every stopped or crashed agent (and idle one, with ``idle``) and of
        agents that no longer exist."""
        agents = self._repos.agents
        ended = set(ENDED_AGENT_STATUSES)
        if idle:
            ended.add(AgentStatus.IDLE)
        if agent_id is not None:
            agent = await self._offload(agents.get, agent_id)
            if agent.id in self._runs or agent.status in LIVE_AGENT_STATUSES:
                raise ConflictError(
                    f"agent {agent.name} is running; stop it first with 'cw agent stop "
                    f"{agent.name}'"
                )
            if agent.status is AgentStatus.IDLE and not idle:
                raise PreconditionFailedError(
                    f"agent {agent.name} is idle: its worktree is kept so it can be resumed "
                    "there to answer questions; remove it anyway with "
                    f"'cw agent clean {agent.name} --idle'"
                )
            targets: list[tuple[str, str | None]] = [(agent.id, agent.name)]
        else:
            known = {agent.id: agent for agent in await self._offload(agents.find_all)}
            targets = [(agent.id, agent.name) for agent in known.values() if agent.status in ended]
            root = self._layout.worktrees
            if root.is_dir():
                targets += [(path.name, None) for path in root.iterdir() if path.name not in known]
        cleaned = []
        for target_id, name in targets:
            removed = await asyncio.to_thread(self._workspaces.remove, target_id, delete_branch)
            if removed or agent_id is not None:
                cleaned.append(CleanedAgent(target_id, name, removed))
        return cleaned

    async def delete(self, agent_id: str) -> Agent:
        """Before an agent is deleted: stop it if it runs and remove its worktrees."""
        agent = await self._offload(self._repos.agents.get, agent_id)
        if agent.id in self._runs or agent.status in LIVE_AGENT_STATUSES:
            agent = await self.stop(agent.id)
        self._alarms.cancel(agent.id)
        await asyncio.to_thread(self._workspaces.remove, agent.id, False)
        return agent

    @property
    def settings(self) -> RunnerSettings:
        return self._settings

    def is_running(self, agent_id: str) -> bool:
        return agent_id in self._runs

    def check_output_file(self, agent_id: str, path: str) -> None:
        """Refuse an output file the runner would not read for this agent."""
        if self._layout.own_output_file(agent_id, path) is None:
            own = self._layout.agent_dir(agent_id)
            raise InvalidInputError(
                f"outputFilePath must be one of the agent's own output files, "
                f"{own}/session-<n>.jsonl: the runner reads no other; {path!r} is not",
                field="outputFilePath",
            )

    def started_here(self, agent_id: str) -> bool:
        """Whether this runner ran the agent's process (since ``start``, which counts the
        idle agents it ran before a restart): answering is for those only, and the
        check needs no read for the others."""
        return agent_id in self._started

    # -- answering ---------------------------------------------------------------------

    def cannot_answer(self, agent: Agent) -> str | None:
        """Why this runner cannot resume ``agent`` to answer questions (None: it can,
        once it is idle): an agent registered by hand, one another server runs, one
        without a session, or whose provider's CLI this server does not have."""
        if agent.process_started_at is None:
            return "it was registered by hand, not started by crosswalk"
        if not self._ours(agent):
            return f"another server ({agent.server_id}) runs it"
        if agent.session_id is None:
            return "it has no session to resume"
        provider = self._providers.get(agent.provider)
        if provider is None:
            return f"its provider {agent.provider!r} is unknown to this server"
        try:
            self._executable(provider)
        except PreconditionFailedError:
            return f"the {provider.name} CLI is not installed on this server"
        return None

    def account_wait(self, agent: Agent) -> datetime | None:
        """When an account for the agent's provider is free again, if none is now."""
        now = self._now()
        accounts = self._repos.accounts.find_by_provider(agent.provider)
        if not accounts or any(not is_exhausted(account, now) for account in accounts):
            return None
        return self._earliest_reset(agent.provider, None)

    async def answer(self, agent_id: str) -> AnsweringRun:
        """Resume the idle agent in its own session and worktree (made again on its
        branch if it is gone), with a prompt listing the questions waiting for it, to
        answer them. Its task is left as it is and nothing lands when the run ends.
        ``AccountsExhaustedError`` when no account of its provider is free."""
        agent = await self._offload(self._repos.agents.get, agent_id)
        if agent.id in self._runs or agent.status is not AgentStatus.IDLE:
            raise ConflictError(f"agent {agent.name} is {agent.status.value}, not idle")
        why = self.cannot_answer(agent)
        if why is not None:
            raise PreconditionFailedError(f"agent {agent.name} cannot be resumed: {why}")
        questions = await self._offload(self._record.waiting_questions, agent.id)
        if not questions:
            raise PreconditionFailedError(f"no question waits for agent {agent.name}")
        provider = self._provider(agent.provider)
        executable = self._executable(provider)
        account = await self._offload(self._answering_account, agent, provider)
        await asyncio.to_thread(self._restore_workspace, agent)
        listed = questions[:MAX_PROMPT_QUESTIONS]
        more = len(questions) - len(listed)
        prompt = await self._offload(self._answering_prompt, agent, listed, more)
        await self._relaunch(
            agent, provider, executable, account, prompt, answering=[c.id for c in listed]
        )
        run = self._runs[agent.id]
        assert run.answering is not None
        return run.answering

    async def wait_ended(self, agent_id: str) -> None:
        """Until the agent's run (and any run that replaced it on another account) ended."""
        while (run := self._runs.get(agent_id)) is not None:
            await run.done.wait()

    async def stop_answering(self, agent_id: str, reason: str) -> None:
        """Stop the agent's answering run for ``reason``: the agent goes back to idle,
        and the questions waiting for it end abandoned with the reason."""
        run = self._runs.get(agent_id)
        if run is None or run.answering is None:
            return
        run.stop_reason = reason
        await self.stop(agent_id)

    def _answering_account(self, agent: Agent, provider: Provider) -> Account | None:
        self._record.clear_expired_exhaustion()
        until = self.account_wait(agent)
        if until is not None:
            raise AccountsExhaustedError(provider.name, until)
        return self._resume_account(agent, provider)

    def _restore_workspace(self, agent: Agent) -> None:
        if agent.task_id is None:
            return
        task = self._repos.tasks.find_by_id(agent.task_id)
        if task is None or task.initiative_id is None:
            return
        initiative = self._repos.initiatives.get(task.initiative_id)
        projects = self._repos.projects.find_projects_by_initiative_id(initiative.id)
        self._workspaces.restore(agent, initiative, projects)

    def _answering_prompt(self, agent: Agent, questions: list[Conversation], more: int) -> str:
        task = self._repos.tasks.find_by_id(agent.task_id) if agent.task_id else None
        asked = [self._asked(c.id, c.question, c.from_agent_id) for c in questions]
        return build_answering_prompt(agent, task, asked, more=more)

    def _asked(self, id: str, question: str, asker_id: str | None) -> AskedQuestion:
        asker = self._repos.agents.find_by_id(asker_id) if asker_id is not None else None
        if asker_id is not None and asker is None:
            return AskedQuestion(id, question, asker_id)
        task = None
        if asker is not None and asker.task_id is not None:
            task = self._repos.tasks.find_by_id(asker.task_id)
        return AskedQuestion(id, question, asker.name if asker else None, task)

    # -- server start and stop ---------------------------------------------------------

    async def start(self) -> None:
        """Reconcile: follow again every agent this runner started that is believed to
        run (adopting a live process, or reading what a dead one left), and re-arm agents
        waiting for an account. Agents registered by hand, and agents another server of
        the deployment runs (``server_id``), are left alone. Directories an older
        version left readable by others are tightened first."""
        for root in self._layout.private_roots:
            tighten(root, PRIVATE_DIR)
        adopted, waiting = await self._offload(self._reconcile)
        for run in adopted:
            self._follow(run)
        await self._stop_taken_processes()
        for agent_id, until in waiting:
            self._alarms.arm(agent_id, until)

    def _reconcile(self) -> tuple[list[_Run], list[tuple[str, datetime]]]:
        """``start``'s reads and writes: the runs to follow again, and the agents
        waiting for an account with when one is free."""
        adopted: list[_Run] = []
        waiting: list[tuple[str, datetime]] = []
        for status in LIVE_AGENT_STATUSES:
            for agent in self._repos.agents.find_by_status(status):
                if agent.process_started_at is None:
                    continue  # registered by hand (`cw agent register`): not ours to follow
                if not self._ours(agent):
                    continue  # another server's process: only that server can follow it
                try:
                    adopted.append(self._adopt(agent))
                except ForeignFileError as exc:
                    self._refuse(agent, exc)
                except CrosswalkError as exc:
                    self._record.run_ended(
                        agent.id,
                        {"status": AgentStatus.CRASHED, "result": {"error": exc.message}},
                    )
                    self._record.runs_closed(agent, RunEnd.CRASHED)
        for agent in self._repos.agents.find_by_status(AgentStatus.IDLE):
            if agent.process_started_at is None or not self._ours(agent):
                continue  # an agent's own `result` does not make the runner start it
            self._started.add(agent.id)
            if isinstance(agent.result, dict) and agent.result.get(WAITING_FOR_ACCOUNT):
                waiting.append((agent.id, self._earliest_reset(agent.provider, None)))
        followed = {run.agent.id for run in adopted} | set(self._runs)
        for answering in self._repos.answering_runs.find_open():
            owner = self._repos.agents.find_by_id(answering.agent_id)
            if answering.agent_id not in followed and (owner is None or self._ours(owner)):
                self._record.end_answering(
                    answering.id, "its end was not seen: no server ran when it ended"
                )
        return adopted, waiting

    async def release_taken(self) -> list[str]:
        """This server lost its lease: another server may have ended its running agents
        and handed their tasks back to dispatch. Stop each run whose agent no longer
        runs, recording nothing (the task runs elsewhere now); the agents' ids."""
        taken = []
        grace, poll = self._settings.stop_grace_s, self._settings.poll_interval_s
        for agent_id, run in list(self._runs.items()):
            agent = await self._offload(self._repos.agents.find_by_id, agent_id)
            if agent is not None and agent.status in LIVE_AGENT_STATUSES:
                continue
            run.taken = True
            ended = lambda run=run: self._processes.poll(run.handle) is not None  # noqa: E731
            await terminate(self._processes, run.handle, ended, grace_s=grace, poll_s=poll)
            taken.append(agent_id)
        return taken

    def _require_here(self, agent: Agent, done: str) -> None:
        """Refuse to touch an agent whose process, session and worktree are on another
        server of the deployment, saying which one to ask."""
        if self._ours(agent):
            return
        where = ""
        for row in self._repos.servers.find_with_load():
            if row.server.id == agent.server_id:
                where = f" (CW_URL={row.server.url})"
        raise PreconditionFailedError(
            f"agent {agent.name} runs on server {agent.server_id}, which holds its session and "
            f"worktree: it can be {done} only there; send the command to that server{where}"
        )

    async def _stop_taken_processes(self) -> None:
        """Processes of agents another server marked crashed while this one was down
        (their tasks went back to dispatch) may still run here: stop them."""
        mine = self._settings.server_id
        if mine is None:
            return
        grace, poll = self._settings.stop_grace_s, self._settings.poll_interval_s
        for agent in await self._offload(self._repos.agents.find_by_server_id, mine):
            if agent.status is not AgentStatus.CRASHED or agent.pid is None:
                continue
            if agent.process_started_at is None:
                continue
            handle = self._handle_of(agent)
            if self._processes.poll(handle) is not None:
                continue
            logger.warning(
                "agent %s ran on after its task went back to dispatch; stopping it", agent.name
            )
            ended = lambda handle=handle: self._processes.poll(handle) is not None  # noqa: E731
            await terminate(self._processes, handle, ended, grace_s=grace, poll_s=poll)

    def owns(self, agent: Agent) -> bool:
        """Whether this server runs ``agent``'s process (see ``_ours``)."""
        return self._ours(agent)

    def _ours(self, agent: Agent) -> bool:
        return self._settings.runs_here(agent)

    async def close(self) -> None:
        """Server shutdown: stop the agents if so configured, else leave them running
        (the next start adopts them); stop following them either way."""
        if self._settings.stop_agents_on_exit:
            await asyncio.gather(
                *(self.stop(agent_id) for agent_id in list(self._runs)), return_exceptions=True
            )
        runs = [run.task for run in self._runs.values() if run.task is not None]
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        await self._drain.close()
        await self._alarms.close()

    # -- launching ---------------------------------------------------------------------

    def _provider(self, name: str) -> Provider:
        provider = self._providers.get(name)
        if provider is None:
            known = ", ".join(sorted(self._providers))
            raise InvalidInputError(
                f"unknown provider {name!r}; known providers: {known}", field="provider"
            )
        return provider

    def executables(self) -> dict[str, Located]:
        """Where each provider's CLI is, as a spawn would find it now (``cw serve``
        says so at start)."""
        return {
            name: locate_executable(provider, self._settings, self._which)
            for name, provider in sorted(self._providers.items())
        }

    def _executable(self, provider: Provider) -> str:
        located = locate_executable(provider, self._settings, self._which)
        if located.path is None:
            raise PreconditionFailedError(
                f"the {provider.name} executable was not found: tried {located.tried}; "
                f"{located.remedy} and restart the server"
            )
        return located.path

    def _named_account(self, provider: Provider, account_id: str | None) -> Account | None:
        if account_id is None:
            return None
        account = self._repos.accounts.get(account_id)
        if account.provider != provider.name:
            raise InvalidInputError(
                f"account {account.email} ({account.id}) is a {account.provider} account, "
                f"not {provider.name}",
                field="accountId",
            )
        return account

    def _resume_account(self, agent: Agent, provider: Provider) -> Account | None:
        now = self._now()
        current = self._repos.accounts.find_by_id(agent.account_id) if agent.account_id else None
        if current is not None and not is_exhausted(current, now):
            return current
        return self._record.next_account(provider.name) or current

    async def _relaunch(
        self,
        agent: Agent,
        provider: Provider,
        executable: str,
        account: Account | None,
        message: str | None,
        *,
        answering: list[str] | None = None,
    ) -> Agent:
        """Resume the agent's session, carrying it to ``account``'s config dir first;
        ``answering``: the questions of an answering run."""
        assert agent.session_id is not None
        if account is not None and account.id != agent.account_id:
            source = self._config_dir(provider, agent.account_id)
            target = self._layout.account_dir(account.id)
            await asyncio.to_thread(self._carry, provider, agent.session_id, source, target)
        return await self._launch(
            agent,
            provider,
            executable,
            account,
            message or RESUME_PROMPT,
            agent.session_id,
            answering=answering,
        )

    def _carry(self, provider: Provider, session_id: str, source: Path, target: Path) -> None:
        private_dir(target)
        provider.carry_session(session_id, source, target)

    def _config_dir(self, provider: Provider, account_id: str | None) -> Path:
        if account_id is None:
            return provider.default_config_dir(self._settings.base_env)
        return self._layout.account_dir(account_id)

    async def _launch(
        self,
        agent: Agent,
        provider: Provider,
        executable: str,
        account: Account | None,
        prompt: str,
        session_id: str | None,
        *,
        answering: list[str] | None = None,
    ) -> Agent:
        """Start the CLI. An answering run (``answering``: its questions) leaves the
        task and the agent's last ``result`` as they are and is recorded as such."""
        session = await self._offload(self._next_session, agent)
        output = self._layout.output_file(agent.id, session)
        env = dict(self._settings.base_env)
        if account is not None:
            directory = self._layout.account_dir(account.id)
            await asyncio.to_thread(write_account_dir, directory, provider, account)
            env[provider.config_dir_env] = str(directory)
        options = RunOptions(
            self._settings.permission_modes.get(provider.name), self._settings.server_url
        )
        changes: AgentUpdate = {"account_id": account.id if account else None}
        token = await self._offload(self._record.issue_token, agent.id, changes)
        env.update(CW_URL=self._settings.server_url, CW_AGENT_ID=agent.id, CW_TOKEN=token)
        spec = LaunchSpec(
            argv=provider.command(executable, prompt, session_id, options),
            cwd=Path(agent.worktree_id),
            env=env,
            stdout_path=output,
            stderr_path=DataLayout.stderr_file(output),
            exit_code_path=DataLayout.exit_file(output),
        )
        before = None
        record = None
        if answering is not None:
            before = await asyncio.to_thread(self._workspaces.states, agent.id)
            record = await self._offload(self._record.begin_answering, agent.id, session, answering)
        try:
            handle = await asyncio.to_thread(self._processes.launch, spec)
        except OSError as exc:
            message = f"cannot start {spec.argv[0]} for agent {agent.name}: {exc.strerror or exc}"
            await self._offload(self._not_launched, agent, record, message)
            raise PreconditionFailedError(message) from None
        changes = {
            "status": AgentStatus.RUNNING,
            "pid": handle.pid,
            "process_started_at": handle.started_at,
            "server_id": self._settings.server_id,
            "exit_code": None,
            "output_file_path": str(output),
        }
        if answering is None:
            changes["result"] = None
        agent = await self._offload(self._launched, agent, changes, session, answering is None)
        run = _Run(
            agent=agent,
            provider=provider,
            handle=handle,
            reader=provider.reader(self._now()),
            session=session,
            output=output,
            answering=record,
            worktrees_before=before,
            session_id=agent.session_id,
        )
        self._follow(run)
        return agent

    def _not_launched(self, agent: Agent, answering: AnsweringRun | None, message: str) -> None:
        if answering is not None:
            self._record.end_answering(answering.id, message)
        self._record.run_ended(agent.id, {})

    def _launched(self, agent: Agent, changes: AgentUpdate, session: int, own_work: bool) -> Agent:
        """Record a started run (and, for the agent's own work, its task in progress)."""
        agent = self._record.agent(agent.id, changes)
        self._record.run_started(agent, session)
        if own_work:
            self._record.task(agent, TaskStatus.IN_PROGRESS)
        return agent

    def _next_session(self, agent: Agent) -> int:
        logged = self._repos.log_chunks.get_session_count(agent.id)
        last_file = DataLayout.session_of(agent.output_file_path or "") or 0
        return max(logged, last_file) + 1

    # -- following a run ---------------------------------------------------------------

    def _adopt(self, agent: Agent) -> _Run:
        """The run to follow of a process this server did not start (it ran before a
        restart): only through an output file the runner makes for the agent, whoever
        wrote the row."""
        if agent.pid is None or agent.output_file_path is None:
            raise PreconditionFailedError(
                "the server restarted and found no process or output file recorded"
            )
        output = self._own_output(agent)
        provider = self._provider(agent.provider)
        session = DataLayout.session_of(str(output)) or 1
        reader = provider.reader(self._now())
        offset = 0
        for chunk in self._repos.log_chunks.find_by_agent_id(agent.id, session_number=session):
            offset += len(chunk.content.encode())
            for line in chunk.content.splitlines():
                reader.feed(line)
        open_runs = self._repos.answering_runs.find_open(agent.id)
        answering = next((r for r in open_runs if r.session_number == session), None)
        return _Run(
            agent=agent,
            provider=provider,
            handle=self._handle_of(agent),
            reader=reader,
            session=session,
            output=output,
            offset=offset,
            answering=answering,
            session_id=agent.session_id,
        )

    def _own_output(self, agent: Agent) -> Path:
        """The agent's recorded output file, if it is one the runner made for it."""
        recorded = agent.output_file_path or ""
        output = self._layout.own_output_file(agent.id, recorded)
        if output is None:
            raise ForeignFileError(
                f"its recorded output file {recorded!r} is not one the runner made for it "
                f"({self._layout.agent_dir(agent.id)}/session-<n>.jsonl)"
            )
        return output

    def _refuse(self, agent: Agent, exc: ForeignFileError) -> None:
        """A run whose files are not the runner's own: logged, never read, ended."""
        logger.warning("agent %s (%s): %s; not read", agent.name, agent.id, exc.message)
        self._record.run_ended(
            agent.id,
            {
                "status": AgentStatus.CRASHED,
                "result": {"error": f"{exc.message}; refused, not read"},
            },
        )

    def _handle_of(self, agent: Agent) -> ProcessHandle:
        assert agent.pid is not None
        try:
            output = self._own_output(agent)
        except ForeignFileError:
            output = self._layout.output_file(agent.id, 1)  # the exit file is never used
        return ProcessHandle(
            agent.pid,
            agent.process_started_at if agent.process_started_at is not None else -1,
            DataLayout.exit_file(output),
        )

    def _follow(self, run: _Run) -> None:
        self._runs[run.agent.id] = run
        self._started.add(run.agent.id)
        run.task = asyncio.get_running_loop().create_task(
            self._supervise(run), name=f"agent {run.agent.name}"
        )

    async def _supervise(self, run: _Run) -> None:
        try:
            ended = await self._drain.follow(run)
            if self._runs.get(run.agent.id) is run:
                del self._runs[run.agent.id]
            await self._finish(run, ended)
        except asyncio.CancelledError:
            raise
        except ForeignFileError as exc:
            await self._stop_refused(run)
            await self._offload(self._refuse, run.agent, exc)
        except Exception:
            logger.exception("following agent %s failed", run.agent.name)
        finally:
            if self._runs.get(run.agent.id) is run:
                del self._runs[run.agent.id]
            run.done.set()

    async def _stop_refused(self, run: _Run) -> None:
        """A run the runner will not follow does not run on unseen."""
        grace, poll = self._settings.stop_grace_s, self._settings.poll_interval_s
        ended = lambda: self._processes.poll(run.handle) is not None  # noqa: E731
        await terminate(self._processes, run.handle, ended, grace_s=grace, poll_s=poll)

    async def _store_output(self, drained: list[Drained]) -> None:
        """What the runs wrote in one tick, as log chunks in order, in one write; then
        each session id the output named for the first time (through the offload: off
        the event loop on PostgreSQL)."""
        runs = [cast(_Run, done.run) for done in drained]
        chunks = [
            (run.agent, done.text, run.session) for run, done in zip(runs, drained, strict=True)
        ]
        await self._offload(self._record.logs, chunks)
        for run in {id(run): run for run in runs}.values():
            session_id = run.reader.outcome.session_id
            if session_id is not None and session_id != run.session_id:
                try:
                    await self._offload(self._record_session, run.agent.id, session_id)
                except CrosswalkError:
                    logger.exception("recording agent %s's session failed", run.agent.name)
                    continue
                run.session_id = session_id

    def _record_session(self, agent_id: str, session_id: str) -> None:
        agent = self._repos.agents.find_by_id(agent_id)
        if agent is not None and agent.session_id != session_id:
            self._record.agent(agent_id, {"session_id": session_id})

    async def _finish(self, run: _Run, ended: ProcessExit) -> None:
        """Record how the run ended: stopped, usage limit, success (idle) or crashed.
        A run another server ended meanwhile (this server had lost its lease) records
        nothing: its task went back to dispatch."""
        if await self._offload(self._taken, run):
            logger.warning(
                "agent %s was ended by another server while this one had lost its lease; "
                "its run's end is not recorded",
                run.agent.name,
            )
            return
        outcome = run.reader.outcome
        code = ended.code
        how = _how_it_ended(run, outcome, code)
        agent = await self._offload(self._usage_recorded, run, how)
        if agent is None:
            return
        offload, record = self._offload, self._record
        if run.answering is not None:
            await self._finish_answering(run, run.answering, agent, ended)
        elif how is RunEnd.STOPPED:
            changes: AgentUpdate = {"status": AgentStatus.STOPPED, "exit_code": code}
            agent = await offload(record.run_ended, agent.id, changes)
            await self._ended_badly(agent, "was stopped")
        elif how is RunEnd.USAGE_LIMIT and outcome.usage_limit is not None:
            await offload(record.agent, agent.id, {"exit_code": code, "result": outcome.result})
            await self._on_usage_limit(run, outcome.usage_limit)
        elif how is RunEnd.SUCCEEDED:
            changes = {"status": AgentStatus.IDLE, "exit_code": code, "result": outcome.result}
            agent = await offload(record.run_ended, agent.id, changes)
            if self._run_ends is None:
                await offload(record.task, agent, TaskStatus.COMPLETED)
            else:
                await self._run_ends.run_succeeded(agent)
        else:
            result = outcome.result or {"error": self._crash_reason(run, code)}
            changes = {"status": AgentStatus.CRASHED, "exit_code": code, "result": result}
            agent = await offload(record.run_ended, agent.id, changes)
            exited = "ended" if code is None else f"exited with code {code}"
            await self._ended_badly(agent, f"crashed (its process {exited} without a result)")

    def _taken(self, run: _Run) -> bool:
        """Whether another server ended the run's agent while this one had lost its
        lease (an end this server did not ask for, of a run it still followed)."""
        if run.taken:
            return True
        agent = self._repos.agents.find_by_id(run.agent.id)
        return (
            agent is not None
            and agent.status not in LIVE_AGENT_STATUSES
            and not run.stopping
            and run.answering is None
        )

    def _usage_recorded(self, run: _Run, how: RunEnd) -> Agent | None:
        """Record the run's cost (even when the agent was deleted meanwhile); the agent."""
        agent = self._repos.agents.find_by_id(run.agent.id)
        self._record.run_usage(agent or run.agent, run.session, how, run.reader.outcome.usage)
        return agent

    async def _finish_answering(
        self, run: _Run, answering: AnsweringRun, agent: Agent, ended: ProcessExit
    ) -> None:
        """How an answering run ended. The agent is idle again (stopped, if a person
        stopped it); its task and its last result are untouched; what the run changed
        in the worktree is left there, uncommitted, and recorded. The questions it was
        given and left unanswered end abandoned (all the agent's, when it took too
        long), so none is put to a run twice. The run's record is written before the
        agent's status, so whoever the status wakes finds the run ended."""
        outcome, code = run.reader.outcome, ended.code
        left = await asyncio.to_thread(self._left_changes, agent.id, run.worktrees_before)
        if not run.stopping and outcome.usage_limit is not None and outcome.session_id is not None:
            await self._answering_hit_a_limit(run, answering, agent, code, left)
            return
        await self._offload(self._answering_ended, run, answering, agent, code, left)

    def _answering_ended(
        self, run: _Run, answering: AnsweringRun, agent: Agent, code: int | None, left: list[str]
    ) -> None:
        outcome, name = run.reader.outcome, agent.name
        waiting = [c.id for c in self._record.waiting_questions(agent.id)]
        status = AgentStatus.IDLE
        if run.stopping and run.stop_reason is not None:
            self._record.end_answering(
                answering.id, run.stop_reason, left_changes=left, abandon=waiting,
                reason=run.stop_reason,
            )  # fmt: skip
        elif run.stopping:
            self._record.end_answering(answering.id, "stopped", left_changes=left)
            status = AgentStatus.STOPPED
        elif outcome.succeeded and code in (0, None):
            unanswered = [qid for qid in answering.question_ids if qid in waiting]
            total = len(answering.question_ids)
            self._record.end_answering(
                answering.id,
                f"ended with {len(unanswered)} of {total} questions unanswered"
                if unanswered
                else "answered",
                left_changes=left,
                abandon=unanswered,
                reason=f"agent {name} was resumed to answer it and ended without answering",
            )
        else:
            how = "ended" if code is None else f"exited with code {code}"
            self._record.end_answering(
                answering.id, f"crashed: {self._crash_reason(run, code)}", left_changes=left,
                abandon=answering.question_ids,
                reason=f"agent {name} was resumed to answer it and its process {how} "
                "without a result",
            )  # fmt: skip
        self._record.run_ended(agent.id, {"status": status, "exit_code": code})

    async def _answering_hit_a_limit(
        self,
        run: _Run,
        answering: AnsweringRun,
        agent: Agent,
        code: int | None,
        left: list[str],
    ) -> None:
        """The account is exhausted: answer on the next one, else wait idle (the
        questions stay pending, for when an account is free)."""
        limit = run.reader.outcome.usage_limit
        assert limit is not None
        resets_at = limit.resets_at or self._now() + DEFAULT_LIMIT_WAIT
        going_on = await self._offload(self._answering_account_after_limit, answering, agent,
                                       code, left, resets_at)  # fmt: skip
        if going_on is None:
            return
        account, fresh, questions = going_on
        try:
            executable = self._executable(run.provider)
            prompt = await self._offload(self._answering_prompt, fresh, questions, 0)
            await self._relaunch(
                fresh, run.provider, executable, account, prompt,
                answering=[c.id for c in questions],
            )  # fmt: skip
        except CrosswalkError as exc:
            idle: AgentUpdate = {"status": AgentStatus.IDLE, "exit_code": code}
            await self._offload(self._record.run_ended, agent.id, idle)
            logger.warning("agent %s could not go on answering: %s", agent.name, exc.message)

    def _answering_account_after_limit(
        self,
        answering: AnsweringRun,
        agent: Agent,
        code: int | None,
        left: list[str],
        resets_at: datetime,
    ) -> tuple[Account, Agent, list[Conversation]] | None:
        """Exhaust the agent's account; the next one with the agent and its questions
        to answer there, or None when it waits (recorded) for one."""
        if agent.account_id is not None:
            self._record.exhaust(agent.account_id, resets_at)
        account = self._record.next_account(agent.provider)
        if account is None:
            until = self._earliest_reset(agent.provider, resets_at)
            self._record.end_answering(
                answering.id,
                f"hit a usage limit; waits for an account until {to_iso(until)}",
                left_changes=left,
            )
            self._record.run_ended(agent.id, {"status": AgentStatus.IDLE, "exit_code": code})
            return None
        self._record.end_answering(
            answering.id, f"hit a usage limit; goes on with account {account.email}",
            left_changes=left,
        )  # fmt: skip
        questions = [
            c for c in self._record.waiting_questions(agent.id) if c.id in answering.question_ids
        ]
        return account, self._repos.agents.get(agent.id), questions

    def _left_changes(self, agent_id: str, before: dict[Path, WorktreeState] | None) -> list[str]:
        """What the run changed in the agent's worktrees; with no record of before (a
        run adopted after a restart), everything that differs from their commits."""
        if before is None:
            before = {path: WorktreeState(state.head, {}) for path, state in
                      self._workspaces.states(agent_id).items()}  # fmt: skip
        return self._workspaces.changed_since(agent_id, before)

    async def _ended_badly(self, agent: Agent, how: str) -> None:
        if self._run_ends is not None:
            await self._run_ends.run_failed(agent, how)

    def _crash_reason(self, run: _Run, code: int | None) -> str:
        how = "ended" if code is None else f"exited with code {code}"
        try:
            stderr = tail_text(DataLayout.stderr_file(run.output))
        except ForeignFileError as exc:
            logger.warning("agent %s (%s): %s; not read", run.agent.name, run.agent.id, exc)
            stderr = ""
        reason = f"the {run.provider.name} process {how} without a result"
        return f"{reason}; its stderr ends with:\n{stderr}" if stderr else reason

    # -- usage limits ------------------------------------------------------------------

    async def _on_usage_limit(self, run: _Run, limit: UsageLimit) -> None:
        """Mark the account exhausted until it resets, and resume the agent at once on
        the next available account; with none, wait (idle) until one is available."""
        resets_at = limit.resets_at or self._now() + DEFAULT_LIMIT_WAIT
        agent, account = await self._offload(self._exhausted, run.agent.id, resets_at)
        if account is not None:
            try:
                executable = self._executable(run.provider)
                await self._relaunch(agent, run.provider, executable, account, None)
            except CrosswalkError as exc:
                await self._offload(self._crashed, agent.id, exc)
            return
        until = await self._offload(self._wait_for_account, agent, limit, resets_at)
        self._alarms.arm(agent.id, until)

    def _exhausted(self, agent_id: str, resets_at: datetime) -> tuple[Agent, Account | None]:
        """Mark the agent's account exhausted; the agent and the next free account."""
        agent = self._repos.agents.get(agent_id)
        if agent.account_id is not None:
            self._record.exhaust(agent.account_id, resets_at)
        return agent, self._record.next_account(agent.provider)

    def _crashed(self, agent_id: str, exc: CrosswalkError) -> None:
        self._record.run_ended(
            agent_id, {"status": AgentStatus.CRASHED, "result": {"error": exc.message}}
        )

    def _wait_for_account(self, agent: Agent, limit: UsageLimit, resets_at: datetime) -> datetime:
        """The agent waits idle for an account; when one is free."""
        until = self._earliest_reset(agent.provider, resets_at)
        self._record.run_ended(
            agent.id,
            {
                "status": AgentStatus.IDLE,
                "result": {
                    WAITING_FOR_ACCOUNT: True,
                    "reason": limit.message,
                    "resumesAt": to_iso(until),
                },
            },
        )
        return until

    def _earliest_reset(self, provider: str, fallback: datetime | None) -> datetime:
        resets = [
            account.exhausted_until
            for account in self._repos.accounts.find_by_provider(provider)
            if account.is_exhausted and account.exhausted_until is not None
        ]
        if resets:
            return min(resets)
        return fallback or self._now()

    async def _resume_waiting(self, agent_id: str) -> None:
        """The alarm of an agent waiting for an account rang: resume it on the next
        available account, or wait again for the next expiry."""
        agent = await self._offload(self._repos.agents.find_by_id, agent_id)
        if agent is None or agent.status is not AgentStatus.IDLE:
            return
        provider = self._provider(agent.provider)
        account, again_at = await self._offload(self._account_after_wait, agent.provider)
        if again_at is not None:
            self._alarms.arm(agent_id, again_at)
            return
        try:
            executable = self._executable(provider)
            await self._relaunch(agent, provider, executable, account, None)
        except CrosswalkError as exc:
            await self._offload(self._crashed, agent_id, exc)

    def _account_after_wait(self, provider: str) -> tuple[Account | None, datetime | None]:
        """The next free account, or when to look again (the provider has accounts
        and none is free); neither: the CLI's own login."""
        self._record.clear_expired_exhaustion()
        account = self._record.next_account(provider)
        if account is None and self._repos.accounts.find_by_provider(provider):
            return None, self._earliest_reset(provider, None)
        return account, None


def _how_it_ended(run: _Run, outcome: RunOutcome, code: int | None) -> RunEnd:
    if run.stopping:
        return RunEnd.STOPPED
    if outcome.usage_limit is not None and outcome.session_id is not None:
        return RunEnd.USAGE_LIMIT
    if outcome.succeeded and code in (0, None):
        return RunEnd.SUCCEEDED
    return RunEnd.CRASHED


@dataclass(frozen=True, slots=True)
class Located:
    """Where a provider's CLI was looked for, and found (``path``) or not."""

    path: str | None
    tried: str  # what was looked for, in words
    remedy: str  # what a person does when it is missing


def locate_executable(provider: Provider, settings: RunnerSettings, which: Which) -> Located:
    """The CLI at ``CW_<PROVIDER>_PATH`` if set, else its name on the server's PATH (the
    agents' too: they inherit the server's environment)."""
    variable = f"CW_{provider.name.upper()}_PATH"
    configured = settings.executables.get(provider.name)
    tried = (
        f"the path {configured!r} (set by {variable})"
        if configured
        else f"{provider.executable_name!r} on the server's PATH"
    )
    remedy = f"install it (npm install -g {provider.package}) or set {variable} to its path"
    return Located(which(configured or provider.executable_name), tried, remedy)
