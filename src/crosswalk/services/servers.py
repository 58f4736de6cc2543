"""The deployment's servers: who is alive, where dispatch places an agent, and what
happens to the agents of a server that stopped reporting (docs/deploy.md).

Each ``cw serve`` registers itself (``register``) and stamps its heartbeat every few
seconds (``heartbeat``). A server is *live* while its last heartbeat is younger than the
lease (``CW_SERVER_LEASE_S``) and nobody took its lease away. Dispatch places an agent
on the live server with the lowest load that has room (``choose``); that server claims
the placement in one conditional UPDATE before it starts the agent, so no two servers
start the same one. When a server's lease runs out, the first live server to notice
takes it (``reap``: one conditional UPDATE, so it happens once): the server's running
agents (and idle ones whose work had not landed) end ``crashed`` with the reason, and
their tasks and the tasks placed on it and not started yet go back to ``pending`` for
dispatch to run elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crosswalk.db.repositories import AgentRepository, ServerRepository
from crosswalk.domain.enums import LIVE_AGENT_STATUSES, AgentStatus, RunEnd, TaskStatus
from crosswalk.domain.errors import NotFoundError, PreconditionFailedError
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Agent, Placement, Server, ServerLoad
from crosswalk.services.agents import AgentService
from crosswalk.services.planning import PlanningService
from crosswalk.services.unit_of_work import UnitOfWorkFactory
from crosswalk.services.usage import UsageService

ENTITY = "server"
PLACEMENT = "placement"

#: Seconds without a heartbeat after which a server is dead (``CW_SERVER_LEASE_S``).
DEFAULT_LEASE_S = 30.0


def is_live(server: Server, now: datetime, lease_s: float) -> bool:
    """Whether ``server`` holds its lease at ``now``."""
    return server.lease_lost_at is None and now - server.heartbeat_at < timedelta(seconds=lease_s)


@dataclass(frozen=True, slots=True)
class ServerState:
    """A server as ``cw server list`` shows it."""

    server: Server
    load: int
    live: bool


@dataclass(frozen=True, slots=True)
class Reaped:
    """What taking a dead server's lease did."""

    server_id: str
    crashed_agents: list[str]
    tasks_returned: list[str]


@dataclass(slots=True)
class ServerService:
    servers: ServerRepository
    agent_rows: AgentRepository
    agents: AgentService
    planning: PlanningService
    usage: UsageService
    unit_of_work: UnitOfWorkFactory
    lease_s: float = DEFAULT_LEASE_S

    # -- each server about itself ------------------------------------------------------

    def register(self, id: str, url: str, capacity: int, *, worker: bool) -> Server:
        """Server ``id`` starts: its row, live, holding its lease."""
        with self.unit_of_work() as uow:
            server = self.servers.register(id, url, capacity, worker)
            uow.record(EntityChanged(ENTITY, id, Action.UPDATED))
        return server

    def heartbeat(self, id: str) -> Server | None:
        """Server ``id`` is alive: the row as it is now (``lease_lost_at`` set: another
        server took its lease meanwhile; None: its row is gone)."""
        return self.servers.heartbeat(id)

    # -- the deployment ----------------------------------------------------------------

    def states(self, now: datetime) -> list[ServerState]:
        return [
            ServerState(row.server, row.load, is_live(row.server, now, self.lease_s))
            for row in self.servers.find_with_load()
        ]

    def choose(self, now: datetime, *, loads: list[ServerLoad] | None = None) -> str | None:
        """The live server with room for one more agent, least loaded first (then the
        most room, then by id); None when every live server is full."""
        rows = self.servers.find_with_load() if loads is None else loads
        open_ = [
            row
            for row in rows
            if is_live(row.server, now, self.lease_s) and row.load < row.server.capacity
        ]
        if not open_:
            return None
        best = min(open_, key=lambda r: (r.load, r.load - r.server.capacity, r.server.id))
        return best.server.id

    def free_slots(self, now: datetime) -> int:
        """Agents the live servers can still take, all together."""
        return sum(
            max(0, row.server.capacity - row.load)
            for row in self.servers.find_with_load()
            if is_live(row.server, now, self.lease_s)
        )

    def place(self, task_id: str, server_id: str, provider: str | None) -> Placement:
        """The agent of claimed task ``task_id`` is to run on ``server_id``."""
        with self.unit_of_work() as uow:
            placement = self.servers.place(task_id, server_id, provider)
            uow.record(EntityChanged(PLACEMENT, task_id, Action.CREATED))
        return placement

    def claim(self, task_id: str, server_id: str) -> Placement | None:
        """Server ``server_id`` takes the placement, once (None: not its, or taken)."""
        return self.servers.claim(task_id, server_id)

    def placed_on(self, server_id: str) -> list[Placement]:
        return self.servers.find_unclaimed(server_id)

    def started(self, task_id: str) -> None:
        """The placed agent runs (or could not start): the placement is done."""
        self.servers.remove_placement(task_id)

    # -- leases ------------------------------------------------------------------------

    def dead(self, now: datetime) -> list[str]:
        """Servers whose lease ran out and that nobody reaped yet."""
        return [
            row.server.id
            for row in self.servers.find_with_load()
            if row.server.lease_lost_at is None and not is_live(row.server, now, self.lease_s)
        ]

    def reap(self, server_id: str, now: datetime) -> Reaped | None:
        """Take the lease of ``server_id`` if it ran out, in the unit of work that hands
        its work back: its running agents end ``crashed`` with the reason, their tasks and
        the tasks placed on it go back to ``pending``. None when the server is alive or
        another server reaped it first."""
        cutoff = now - timedelta(seconds=self.lease_s)
        reason = (
            f"its server {server_id} stopped reporting (no heartbeat for {self.lease_s:g} s); "
            "its task went back to dispatch"
        )
        crashed: list[str] = []
        returned: list[str] = []
        with self.unit_of_work() as uow:
            if self.servers.take_lease(server_id, cutoff) is None:
                return None
            uow.record(EntityChanged(ENTITY, server_id, Action.UPDATED))
            for agent in self.agent_rows.find_by_server_id(server_id):
                if not self._was_working(agent):
                    continue
                self.agents.apply(
                    uow,
                    agent,
                    {
                        "status": AgentStatus.CRASHED,
                        "result": {"error": reason},
                        "token_hash": None,
                    },
                )
                self.usage.close_open_runs(agent, RunEnd.CRASHED, now)
                crashed.append(agent.id)
                if agent.task_id is not None and self._back_to_dispatch(agent.task_id):
                    returned.append(agent.task_id)
            for placement in self.servers.find_by_server(server_id):
                self.servers.remove_placement(placement.task_id)
                if self._back_to_dispatch(placement.task_id):
                    returned.append(placement.task_id)
        return Reaped(server_id, crashed, returned)

    def _was_working(self, agent: Agent) -> bool:
        """Running, or idle with its task still in progress: its run ended (or never
        started) but the server died before its work landed."""
        if agent.status in LIVE_AGENT_STATUSES:
            return True
        if agent.status is not AgentStatus.IDLE or agent.task_id is None:
            return False
        task = self.planning.tasks.find_by_id(agent.task_id)
        return task is not None and task.status is TaskStatus.IN_PROGRESS

    def _back_to_dispatch(self, task_id: str) -> bool:
        try:
            self.planning.move_task(task_id, TaskStatus.PENDING, expected=[TaskStatus.IN_PROGRESS])
        except (NotFoundError, PreconditionFailedError):
            return False  # deleted, or moved on by someone else: nothing to hand back
        return True
