"""The deployment's servers on SQLite and PostgreSQL: registration and heartbeats, the
load dispatch places by, claims of placements and leases taken once (one conditional
UPDATE each), and what taking a dead server's lease hands back to dispatch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from crosswalk.db import Repositories
from crosswalk.domain.enums import AgentStatus, TaskStatus
from crosswalk.domain.rows import NewAgent, NewInitiative, NewTask, Task
from crosswalk.domain.timestamps import utcnow
from crosswalk.server.app import build_services
from crosswalk.server.context import Services


@pytest.fixture
def services(engine: Engine) -> Services:
    return build_services(engine, "admin-token")


def _task(services: Services, name: str) -> Task:
    initiative = services.planning.create_initiative(NewInitiative(f"i-{name}"))
    task = services.planning.create_task(NewTask(name, initiative_id=initiative.id))
    claimed = services.planning.claim_task(task.id)
    assert claimed is not None
    return claimed


def _running_on(services: Services, server_id: str, task: Task) -> str:
    agent = services.agents.create(
        NewAgent(
            worktree_id=".",
            task_id=task.id,
            status=AgentStatus.RUNNING,
            server_id=server_id,
            pid=1,
        )
    )
    return agent.id


def test_register_heartbeat_and_load(repos: Repositories, services: Services) -> None:
    first = repos.servers.register("a", "http://a/trpc", 3, False)
    assert (first.capacity, first.worker, first.lease_lost_at) == (3, False, None)
    repos.servers.register("b", "http://b/trpc", 2, True)
    _running_on(services, "a", _task(services, "t1"))
    services.servers.place(_task(services, "t2").id, "a", None)
    loads = {row.server.id: row.load for row in repos.servers.find_with_load()}
    assert loads == {"a": 2, "b": 0}
    beat = repos.servers.heartbeat("a")
    assert beat is not None and beat.heartbeat_at >= first.heartbeat_at
    assert repos.servers.heartbeat("nobody") is None
    again = repos.servers.register("a", "http://a2/trpc", 5, False)
    assert (again.url, again.capacity) == ("http://a2/trpc", 5)


def test_dispatch_chooses_the_least_loaded_live_server_with_room(
    repos: Repositories, services: Services
) -> None:
    now = utcnow()
    repos.servers.register("a", "http://a/trpc", 2, False)
    repos.servers.register("b", "http://b/trpc", 2, True)
    assert services.servers.choose(now) == "a"  # equal load: by id
    _running_on(services, "a", _task(services, "t1"))
    assert services.servers.choose(now) == "b"
    assert services.servers.free_slots(now) == 3
    _running_on(services, "b", _task(services, "t2"))
    _running_on(services, "b", _task(services, "t3"))
    assert services.servers.choose(now) == "a"  # b is full
    _running_on(services, "a", _task(services, "t4"))
    assert services.servers.choose(now) is None
    assert services.servers.free_slots(now) == 0
    later = now + timedelta(seconds=services.servers.lease_s + 1)
    assert [s.live for s in services.servers.states(later)] == [False, False]


def test_a_placement_is_claimed_once_and_only_by_its_server(
    repos: Repositories, services: Services
) -> None:
    task = _task(services, "t1")
    services.servers.place(task.id, "a", "claude")
    assert services.servers.claim(task.id, "b") is None
    claimed = services.servers.claim(task.id, "a")
    assert claimed is not None and claimed.provider == "claude"
    assert services.servers.claim(task.id, "a") is None
    assert services.servers.placed_on("a") == []
    services.servers.started(task.id)
    assert repos.servers.find_by_server("a") == []


def test_a_dead_servers_tasks_go_back_to_dispatch_once(
    repos: Repositories, services: Services
) -> None:
    repos.servers.register("a", "http://a/trpc", 4, False)
    repos.servers.register("b", "http://b/trpc", 4, False)
    running_task = _task(services, "running")
    agent_id = _running_on(services, "a", running_task)
    placed_task = _task(services, "placed")
    services.servers.place(placed_task.id, "a", None)
    # Its run ended (or its process never started) but its work had not landed.
    unlanded_task = _task(services, "unlanded")
    unlanded = services.agents.create(
        NewAgent(worktree_id=".", task_id=unlanded_task.id, server_id="a")
    )
    done_task = _task(services, "done")
    services.agents.create(NewAgent(worktree_id=".", task_id=done_task.id, server_id="a"))
    services.planning.move_task(done_task.id, TaskStatus.COMPLETED)
    now = utcnow()
    assert services.servers.dead(now) == []
    assert services.servers.reap("a", now) is None  # alive: nothing taken
    later = now + timedelta(seconds=services.servers.lease_s + 1)
    repos.servers.heartbeat("b")
    assert services.servers.dead(later) == ["a", "b"]
    reaped = services.servers.reap("a", later)
    assert reaped is not None
    assert sorted(reaped.crashed_agents) == sorted([agent_id, unlanded.id])
    returned = [running_task.id, unlanded_task.id, placed_task.id]
    assert sorted(reaped.tasks_returned) == sorted(returned)
    assert repos.tasks.get(done_task.id).status is TaskStatus.COMPLETED
    assert services.servers.reap("a", later) is None  # once
    agent = repos.agents.get(agent_id)
    assert agent.status is AgentStatus.CRASHED
    assert "its server a stopped reporting" in agent.result["error"]
    assert repos.tasks.get(running_task.id).status is TaskStatus.PENDING
    assert repos.tasks.get(placed_task.id).status is TaskStatus.PENDING
    assert repos.servers.find_by_server("a") == []
    lost = repos.servers.heartbeat("a")
    assert lost is not None and lost.lease_lost_at is not None  # it learns it lost it
    assert repos.servers.register("a", "http://a/trpc", 4, False).lease_lost_at is None
