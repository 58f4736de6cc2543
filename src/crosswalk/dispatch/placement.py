"""Agents on several servers: where dispatch places an agent, and each server's part.

``PlacingLauncher`` is dispatch's ``AgentLauncher`` when the server has an id: it asks
``ServerService.choose`` for the live server with room (least loaded first) and starts
the agent here when that is this server, else records a placement for that server.
Its database calls go through the offload too.

``ServerPresence`` is each server's loop (dispatching or ``--worker``): it registers the
server, stamps its heartbeat every ``heartbeat_s``, takes the lease of any server whose
heartbeat is older than ``lease_s`` (its running agents' tasks go back to dispatch), and
starts the agents placed on this server, each after claiming its placement in one
conditional UPDATE. When it finds its own lease taken (it was paused or cut off longer
than the lease), it stops the runs another server ended before it reports again, so no
task runs twice. Its database calls go through the offload (off the loop on
PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from crosswalk.dispatch.dispatcher import could_not_start
from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError
from crosswalk.domain.events import EntityChanged, Event
from crosswalk.domain.rows import Agent, Placement, Task
from crosswalk.domain.timestamps import utcnow
from crosswalk.runner import RunnerSettings, SpawnRequest, Supervisor
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.offload import Offload
from crosswalk.services.planning import PlanningService
from crosswalk.services.servers import PLACEMENT, ServerService

logger = logging.getLogger("crosswalk.dispatch")

Clock = Callable[[], datetime]


class PlacingLauncher:
    """Starts a claimed task's agent on the least loaded live server (``AgentLauncher``)
    and tells dispatch how much room the servers have (``Capacity``)."""

    def __init__(
        self,
        *,
        servers: ServerService,
        supervisor: Supervisor,
        planning: PlanningService,
        server_id: str,
        offload: Offload,
        now: Clock = utcnow,
    ) -> None:
        self._servers = servers
        self._supervisor = supervisor
        self._planning = planning
        self._server_id = server_id
        self._offload = offload
        self._now = now

    def free_slots(self) -> int:
        """Blocking: dispatch calls it through its offload."""
        return self._servers.free_slots(self._now())

    async def launch(self, task: Task, provider: str | None) -> Agent | None:
        target = await self._offload(self._servers.choose, self._now())
        if target is None:
            # Filled up since dispatch counted the room: back to pending, and dispatch
            # starts it when a slot frees.
            await self._offload(
                self._planning.move_task,
                task.id,
                TaskStatus.PENDING,
                expected=[TaskStatus.IN_PROGRESS],
            )
            return None
        if target == self._server_id:
            return await self._supervisor.spawn(SpawnRequest(task_id=task.id, provider=provider))
        await self._offload(self._servers.place, task.id, target, provider)
        logger.info("task %s: agent placed on server %s", task.id, target)
        return None


def wakes_presence(event: Event) -> bool:
    """A placement was made (perhaps on this server)."""
    return isinstance(event, EntityChanged) and event.entity == PLACEMENT


class ServerPresence:
    def __init__(
        self,
        *,
        servers: ServerService,
        supervisor: Supervisor,
        planning: PlanningService,
        changes: ChangeStream,
        settings: RunnerSettings,
        offload: Offload,
        now: Clock = utcnow,
    ) -> None:
        assert settings.server_id is not None, "a server in a deployment has an id"
        self._servers = servers
        self._supervisor = supervisor
        self._planning = planning
        self._changes = changes
        self._settings = settings
        self._server_id: str = settings.server_id
        self._offload = offload
        self._now = now
        self._loop: asyncio.Task[None] | None = None
        self._starting: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Register this server (live from now on) and start reporting. A run adopted
        at start whose agent another server ended just before (its heartbeat was stale
        until now) is stopped."""
        await self._register()
        await self._supervisor.release_taken()
        self._loop = asyncio.get_running_loop().create_task(self._serve(), name="presence")

    async def close(self) -> None:
        for task in (self._loop, *self._starting):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._loop, *self._starting) if t is not None), return_exceptions=True
        )

    async def _register(self) -> None:
        settings = self._settings
        await self._offload(
            self._servers.register,
            self._server_id,
            settings.server_url,
            settings.max_agents,
            worker=settings.worker,
        )

    async def _serve(self) -> None:
        while not self._changes.closed:
            async with self._changes.follow(wakes_presence) as placements:
                while not self._changes.closed and not placements.lagged:
                    try:
                        await self.tick()
                    except Exception:  # the heartbeat must outlive one failed round
                        logger.exception("server %s: heartbeat round failed", self._server_id)
                    with contextlib.suppress(TimeoutError, StopAsyncIteration):
                        await asyncio.wait_for(anext(placements), self._settings.heartbeat_s)

    async def tick(self) -> None:
        """One round: report, reap dead servers, start what was placed here."""
        me = await self._offload(self._servers.heartbeat, self._server_id)
        if me is None or me.lease_lost_at is not None:
            taken = await self._supervisor.release_taken()
            logger.warning(
                "server %s lost its lease (no heartbeat for %g s); stopped %d run(s) that "
                "went back to dispatch, and reports again",
                self._server_id,
                self._settings.lease_s,
                len(taken),
            )
            await self._register()
        for dead in await self._offload(self._servers.dead, self._now()):
            reaped = await self._offload(self._servers.reap, dead, self._now())
            if reaped is not None:
                logger.warning(
                    "server %s stopped reporting: %d agent(s) marked crashed, %d task(s) "
                    "back to dispatch",
                    dead,
                    len(reaped.crashed_agents),
                    len(reaped.tasks_returned),
                )
        for placement in await self._offload(self._servers.placed_on, self._server_id):
            claimed = await self._offload(self._servers.claim, placement.task_id, self._server_id)
            if claimed is not None:
                starting = asyncio.get_running_loop().create_task(self._start(claimed))
                self._starting.add(starting)
                starting.add_done_callback(self._starting.discard)

    async def _start(self, placement: Placement) -> None:
        try:
            task = await self._offload(self._planning.tasks.find_by_id, placement.task_id)
            if task is None or task.status is not TaskStatus.IN_PROGRESS:
                return  # deleted, or moved on since it was placed
            try:
                await self._supervisor.spawn(
                    SpawnRequest(task_id=task.id, provider=placement.provider)
                )
            except CrosswalkError as exc:
                why = exc.message
                if isinstance(exc, PreconditionFailedError):
                    why = f"{why} (on server {self._server_id})"
                await self._offload(could_not_start, self._planning, task, why)
            except Exception as exc:  # the task must not stay in progress with no agent
                logger.exception("starting the agent of task %s failed", task.id)
                why = f"{type(exc).__name__}: {exc} (on server {self._server_id})"
                await self._offload(could_not_start, self._planning, task, why)
        except Exception:
            logger.exception("starting the agent of task %s failed", placement.task_id)
        finally:
            with contextlib.suppress(Exception):
                await self._offload(self._servers.started, placement.task_id)
