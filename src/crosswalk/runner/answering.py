"""The answering scheduler: a question to an idle agent this server runs resumes it.

An agent's run ended ``idle``, its process is gone, but its session still holds what it
knew. When a question waits for such an agent, the scheduler has the supervisor resume
it in its own session to answer (``Supervisor.answer``; docs/runner.md, "Answering").
Its rules:

- It is woken by the change stream, never by polling: a question asked of an idle agent
  (``QuestionAsked``), an agent becoming idle with questions waiting (its run ended
  before it answered them), and, on start and after missing events, every idle agent
  with questions waiting.
- One answering run per agent at a time; its prompt lists every question waiting, and
  questions asked while it runs reach it through its hooks. Questions still waiting
  when it ends, that it was never given, get the next run.
- At most ``max_answering`` runs at once on this server; the others wait their turn,
  first come first served.
- A run still going after ``answer_timeout_s`` is stopped; the questions waiting for the
  agent end abandoned with that reason, so their askers hear at once.
- With no account of its provider free, the agent waits (questions stay pending) until
  the earliest exhaustion ends, then is tried again.
- An agent that cannot be resumed (registered by hand, its CLI missing here) is left
  alone: its questions wait for it to run again. One whose resume fails (its worktree
  cannot be made again, its CLI does not start) has its questions abandoned with why.

``notice`` tells an asker, once, when its answer will be late (``conversation.ask``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from crosswalk.db.repositories import AgentRepository, AnsweringRunRepository
from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.errors import ConflictError, CrosswalkError
from crosswalk.domain.events import AgentStatusChanged, Event, QuestionAsked
from crosswalk.domain.rows import Agent
from crosswalk.domain.timestamps import to_iso, utcnow
from crosswalk.runner.alarms import Alarms
from crosswalk.runner.supervisor import WAITING_FOR_ACCOUNT, AccountsExhaustedError, Supervisor
from crosswalk.services.answering import AnsweringService
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.offload import InlineOffload, Offload

logger = logging.getLogger("crosswalk.runner")

Sleep = Callable[[float], Awaitable[None]]


def wakes_answering(event: Event) -> bool:
    """Whether ``event`` can leave a question waiting for an idle agent."""
    if isinstance(event, QuestionAsked):
        return True
    return isinstance(event, AgentStatusChanged) and event.status is AgentStatus.IDLE


def _agent_of(event: Event) -> str | None:
    if isinstance(event, QuestionAsked):
        return event.to_agent_id
    if isinstance(event, AgentStatusChanged):
        return event.agent_id
    return None


class AnsweringScheduler:
    def __init__(
        self,
        *,
        supervisor: Supervisor,
        agents: AgentRepository,
        runs: AnsweringRunRepository,
        answering: AnsweringService,
        changes: ChangeStream,
        max_answering: int,
        timeout_s: float,
        now: Callable[[], datetime] = utcnow,
        sleep: Sleep = asyncio.sleep,
        offload: Offload | None = None,
    ) -> None:
        self._supervisor = supervisor
        self._offload = offload or InlineOffload()  # where its reads and writes run
        self._agents = agents
        self._runs = runs
        self._answering = answering
        self._changes = changes
        self._max = max_answering
        self._timeout_s = timeout_s
        self._now = now
        self._queue: deque[str] = deque()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._accounts = Alarms(self._account_free, now, sleep)
        self._serving: asyncio.Task[None] | None = None

    # -- the server's lifetime ---------------------------------------------------------

    async def start(self) -> None:
        """Follow the change stream (after ``Supervisor.start``, which adopted the
        answering runs a previous server left running)."""
        following = asyncio.Event()
        self._serving = asyncio.get_running_loop().create_task(
            self._serve(following), name="answering"
        )
        await following.wait()

    async def close(self) -> None:
        """Stop scheduling; runs in progress are left to the supervisor."""
        if self._serving is not None:
            self._serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._serving
        tasks = list(self._active.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._accounts.close()

    async def _serve(self, following: asyncio.Event) -> None:
        while not self._changes.closed:
            async with self._changes.follow(wakes_answering) as follower:
                following.set()
                await self._reconcile()  # after subscribing: nothing committed since is missed
                async for event in follower:
                    agent_id = _agent_of(event)
                    if agent_id is not None:
                        await self._consider(agent_id)
            # the stream closed, or this follower lagged: read the state afresh

    async def _reconcile(self) -> None:
        for run in await self._offload(self._runs.find_open):
            if run.agent_id not in self._active and self._supervisor.is_running(run.agent_id):
                elapsed = (self._now() - run.started_at).total_seconds()
                self._start(run.agent_id, self._watch(run.agent_id, max(elapsed, 0)))
        for agent in await self._offload(self._agents.find_by_status, AgentStatus.IDLE):
            await self._consider(agent.id)

    # -- what the procedures ask -------------------------------------------------------

    def notice(self, agent: Agent) -> str | None:
        """What an asker should know when the answer from ``agent`` will be late: it
        waits for an account, or it is idle and no one here can resume it."""
        if agent.status is not AgentStatus.IDLE:
            return None
        if agent.process_started_at is not None and not self._supervisor.owns(agent):
            return None  # the server that runs it resumes it
        why = self._supervisor.cannot_answer(agent)
        if why is not None:
            return (
                f"agent {agent.name} is idle and not run by crosswalk ({why}), so the "
                "answer may take until it runs again"
            )
        if isinstance(agent.result, dict) and agent.result.get(WAITING_FOR_ACCOUNT):
            return (
                f"agent {agent.name} waits for an account until "
                f"{agent.result.get('resumesAt')}; it answers when it runs again"
            )
        until = self._supervisor.account_wait(agent)
        if until is not None:
            return (
                f"agent {agent.name} is idle and waits for an account to answer with, "
                f"until {to_iso(until)}"
            )
        return None

    # -- the rules ---------------------------------------------------------------------

    async def _consider(self, agent_id: str) -> None:
        """Queue the agent for an answering run if it is idle, can be resumed here, and
        questions wait for it (and it is not queued, running one, or waiting for an
        account already)."""
        if self._taken(agent_id) or not self._supervisor.started_here(agent_id):
            return  # or registered by hand, or another server's: nothing to resume here
        if not await self._offload(self._should_answer, agent_id) or self._taken(agent_id):
            return
        self._queue.append(agent_id)
        self._pump()

    def _taken(self, agent_id: str) -> bool:
        return agent_id in self._active or agent_id in self._queue or self._accounts.armed(agent_id)

    def _should_answer(self, agent_id: str) -> bool:
        """Whether the agent is idle, resumable here, and questions wait for it."""
        agent = self._agents.find_by_id(agent_id)
        if agent is None or agent.status is not AgentStatus.IDLE:
            return False
        if isinstance(agent.result, dict) and agent.result.get(WAITING_FOR_ACCOUNT):
            return False  # its own work resumes when an account is free; its hooks deliver
        if self._supervisor.cannot_answer(agent) is not None:
            return False
        return bool(self._answering.waiting_for(agent.id))

    def _pump(self) -> None:
        while self._queue and len(self._active) < self._max:
            agent_id = self._queue.popleft()
            self._start(agent_id, self._answer(agent_id))

    def _start(self, agent_id: str, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:  # the scheduler must outlive one bad run
                logger.exception("answering run of agent %s failed", agent_id)
            finally:
                self._active.pop(agent_id, None)
                if not self._changes.closed:
                    self._pump()
                    await self._consider(agent_id)  # questions that arrived while it ran

        self._active[agent_id] = asyncio.get_running_loop().create_task(
            run(), name=f"answering {agent_id}"
        )

    async def _answer(self, agent_id: str) -> None:
        try:
            await self._supervisor.answer(agent_id)
        except AccountsExhaustedError as exc:
            self._accounts.arm(agent_id, exc.until)
            return
        except ConflictError:
            return  # it runs again (someone resumed it): its hooks deliver
        except CrosswalkError as exc:
            await self._offload(self._give_up, agent_id, exc.message)
            return
        await self._watch(agent_id, 0.0)

    async def _watch(self, agent_id: str, elapsed: float) -> None:
        """Until the agent's answering run ends (``elapsed`` seconds after it started);
        stop it once it took too long."""
        try:
            await asyncio.wait_for(
                self._supervisor.wait_ended(agent_id), max(self._timeout_s - elapsed, 0)
            )
        except TimeoutError:
            agent = await self._offload(self._agents.find_by_id, agent_id)
            name = agent.name if agent is not None else agent_id
            await self._supervisor.stop_answering(
                agent_id,
                f"agent {name} did not answer within {self._timeout_s:g} s "
                "(CW_ANSWER_TIMEOUT_S); its answering run was stopped",
            )

    def _give_up(self, agent_id: str, why: str) -> None:
        """The agent cannot be resumed now: its askers hear why instead of waiting."""
        agent = self._agents.find_by_id(agent_id)
        name = agent.name if agent is not None else agent_id
        waiting = [c.id for c in self._answering.waiting_for(agent_id)]
        logger.warning("agent %s cannot be resumed to answer: %s", name, why)
        self._answering.abandon(waiting, f"agent {name} could not be resumed to answer: {why}")

    async def _account_free(self, agent_id: str) -> None:
        await self._consider(agent_id)
