"""Agents registered by hand go idle when their hooks go quiet.

crosswalk's runner knows when the agents it starts end. An agent registered by hand
(``cw agent register``) has only its hooks (docs/hooks.md): a tool call or a prompt
means ``running``, a stop means ``idle``. When its CLI ends without a stop (killed, or
the hooks were removed), or it ran ``cw ask`` outside any hook, nothing would ever say
it is not running. So each such agent that is ``running`` is watched: when neither its
hooks reported activity nor its status moved for ``after_s`` seconds
(``CW_AGENT_IDLE_AFTER_S``, 300), it is marked ``idle``.

What the hooks report is noted in memory (``seen``, from ``agent.checkIn``), so the
check-in stays one read-only request; a status moving to ``running`` is heard on the
change stream. One timer waits for the earliest deadline: no polling. After a restart
every such agent gets a fresh ``after_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from crosswalk.db.repositories import AgentRepository
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.events import AgentStatusChanged, Event
from crosswalk.domain.rows import Agent
from crosswalk.services.agents import AgentService
from crosswalk.services.change_stream import ChangeStream, Follower
from crosswalk.services.offload import InlineOffload, Offload

DEFAULT_IDLE_AFTER_S = 300.0


def watched(agent: Agent) -> bool:
    """An agent registered by hand (only the runner records a process start time)."""
    return agent.process_started_at is None


class IdleWatch:
    def __init__(
        self,
        *,
        agents: AgentService,
        repository: AgentRepository,
        changes: ChangeStream,
        after_s: float,
        clock: Clock = SYSTEM_CLOCK,
        offload: Offload | None = None,
    ) -> None:
        self._agents = agents
        self._offload = offload or InlineOffload()  # where its reads and writes run
        self._repository = repository
        self._changes = changes
        self._after_s = after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}  # agent id -> when its hooks last reported
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._serving: asyncio.Task[None] | None = None

    def seen(self, agent_id: str) -> None:
        """The agent's hooks reported activity now (any thread may call this)."""
        with self._lock:
            first = not self._last
            self._last[agent_id] = self._clock.monotonic()
        if first and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        following = asyncio.Event()
        self._serving = self._loop.create_task(self._serve(following), name="idle watch")
        await following.wait()

    async def close(self) -> None:
        if self._serving is not None:
            self._serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._serving

    async def _serve(self, following: asyncio.Event) -> None:
        async with self._changes.follow(_moves_to_running) as follower:
            following.set()
            for agent in await self._offload(self._repository.find_by_status, AgentStatus.RUNNING):
                if watched(agent):
                    self.seen(agent.id)
            hearing = asyncio.ensure_future(self._hear(follower))
            try:
                while not self._changes.closed:
                    self._wake.clear()
                    due = self._next_due()
                    timer = (
                        None
                        if due is None
                        else self._clock.call_later(due - self._clock.monotonic(), self._wake.set)
                    )
                    try:
                        await self._wake.wait()
                    finally:
                        if timer is not None:
                            timer.cancel()
                    await self._expire()
            finally:
                hearing.cancel()

    async def _hear(self, follower: Follower) -> None:
        async for event in follower:
            if isinstance(event, AgentStatusChanged):
                agent = await self._offload(self._repository.find_by_id, event.agent_id)
                if agent is not None and watched(agent):
                    self.seen(agent.id)
        self._wake.set()  # the stream closed

    def _next_due(self) -> float | None:
        with self._lock:
            return min(self._last.values()) + self._after_s if self._last else None

    async def _expire(self) -> None:
        now = self._clock.monotonic()
        with self._lock:
            quiet = [a for a, at in self._last.items() if now - at >= self._after_s]
            for agent_id in quiet:
                del self._last[agent_id]
        for agent_id in quiet:
            await self._offload(self._quiet, agent_id)

    def _quiet(self, agent_id: str) -> None:
        agent = self._repository.find_by_id(agent_id)
        if agent is None or not watched(agent) or agent.status is not AgentStatus.RUNNING:
            return
        with contextlib.suppress(NotFoundError):  # deleted meanwhile
            self._agents.update(agent_id, {"status": AgentStatus.IDLE})


def _moves_to_running(event: Event) -> bool:
    return isinstance(event, AgentStatusChanged) and event.status is AgentStatus.RUNNING
