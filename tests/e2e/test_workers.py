"""Agents on several servers: two real `cw serve` processes on one PostgreSQL database,
each with its own data directory, `CW_SERVER_ID` and capacity, and a bare repository as
the project's URL, where their work meets. Six tasks, at most four agents at once: the
agents run on both servers and every task lands once on the initiative branch in the
project's repository; one server killed with SIGKILL mid-run leaves its tasks to the
other."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.agents.scripts import SCRIPTS_ENV
from tests.e2e.runner_kit import git, js, make_origin, ok, until
from tests.support.postgres import PostgresServer
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

TASKS = 6
RUN_S = 90.0
BRANCH = "cw/auth-rewrite"


@pytest.fixture
def shared_database(postgres: PostgresServer) -> Iterator[str]:
    name = f"workers_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    """The project's own repository: bare, as a hosted one is."""
    seed = make_origin(tmp_path / "seed")
    bare = tmp_path / "origin.git"
    git("clone", "--quiet", "--bare", str(seed), str(bare), cwd=tmp_path)
    return bare


class Deployment:
    """Servers started here, on one database; each stopped (by pid) at the end."""

    def __init__(self, database: str, root: Path, fake_agents: FakeAgents) -> None:
        self.database = database
        self.root = root
        self.fake_agents = fake_agents
        self.servers: list[ServerProcess] = []

    def start(self, name: str, *args: str, **env: str) -> ServerProcess:
        home = self.root / name
        home.mkdir(parents=True)
        if self.servers:  # one deployment, one admin token
            shutil.copy(self.servers[0].home / "admin-token", home / "admin-token")
        extra = {
            key: value
            for key, value in self.fake_agents.env().items()
            if not key.startswith("CW_") or key == SCRIPTS_ENV
        }
        extra.update(CW_AGENT_STOP_GRACE_S="3", CW_SERVER_ID=name, **env)
        server = ServerProcess(home=home, database=self.database, server_env=extra)
        self.servers.append(server.start(args))
        return server

    def close(self) -> None:
        for server in self.servers:
            if server.process is not None:
                for agent in js(server, "agent", "list", "--status", "running")["items"]:
                    server.cw("agent", "stop", agent["id"])
            server.close()


@pytest.fixture
def deployment(
    shared_database: str, tmp_path: Path, fake_agents: FakeAgents
) -> Iterator[Deployment]:
    made = Deployment(shared_database, tmp_path / "servers", fake_agents)
    try:
        yield made
    finally:
        made.close()


def six_tasks(
    server: ServerProcess, origin: Path, fake_agents: FakeAgents, seconds: float
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    initiative = js(server, "initiative", "create", "Auth rewrite", "--no-merge-requires-approval")
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", initiative["id"], project["id"])
    tasks = []
    for n in range(TASKS):
        key = fake_agents.script(
            f"t{n}",
            [
                {"kind": "write", "path": f"t{n}.txt", "content": f"task {n}\n"},
                {"kind": "sleep", "seconds": seconds},
                {"kind": "result", "text": f"wrote t{n}.txt"},
            ],
        )
        made = js(server, "task", "create", "--initiative", initiative["id"], f"task {n}",
                  "--description", f"Write it.\n{key}")  # fmt: skip
        tasks.append(made)
    return initiative, tasks


def finished(server: ServerProcess, initiative: dict[str, Any]) -> bool:
    status = js(server, "initiative", "status", initiative["id"])
    return bool(status["dispatch"]["status"] == "off")


def run_to_the_end(server: ServerProcess, initiative: dict[str, Any]) -> None:
    try:
        until(lambda: finished(server, initiative), "every task to land", timeout=RUN_S)
    except AssertionError:
        status = js(server, "initiative", "status", initiative["id"])
        raise AssertionError(
            f"{status}\n{ok(server, 'agent', 'list')}\n{ok(server, 'server', 'list')}\n"
            f"{ok(server, 'inbox')}"
        ) from None


def landed_once(origin: Path) -> None:
    """Each task's file is on the project's initiative branch, merged exactly once."""
    files = git("ls-tree", "--name-only", BRANCH, cwd=origin).split()
    assert sorted(files) == sorted(["README.md", *(f"t{n}.txt" for n in range(TASKS))])
    merges = git("log", "--merges", "--format=%s", BRANCH, cwd=origin).splitlines()
    for n in range(TASKS):
        assert len([m for m in merges if f"task 'task {n}'" in m]) == 1, merges


def test_six_tasks_run_on_a_server_and_a_worker_and_each_lands_once(
    deployment: Deployment, origin: Path, fake_agents: FakeAgents
) -> None:
    a = deployment.start("alpha", CW_MAX_AGENTS="2")
    b = deployment.start("beta", "--worker", CW_MAX_AGENTS="2")
    servers = js(a, "server", "list")["servers"]
    assert [(s["id"], s["capacity"], s["worker"], s["live"]) for s in servers] == [
        ("alpha", 2, False, True),
        ("beta", 2, True, True),
    ]
    assert "beta" in ok(a, "server", "list") and "worker" in ok(a, "server", "list")
    initiative, tasks = six_tasks(a, origin, fake_agents, seconds=1.0)

    ok(a, "initiative", "run", initiative["id"], "--max-agents", "4")
    run_to_the_end(a, initiative)

    agents = js(a, "agent", "list", "--initiative", initiative["id"])["items"]
    assert len(agents) == TASKS
    assert {agent["serverId"] for agent in agents} == {"alpha", "beta"}
    assert "SERVER" in ok(a, "agent", "list") and "beta" in ok(a, "agent", "list")
    landed_once(origin)
    # Work another server ran is shown here too, fetched from the project.
    on_beta = next(agent for agent in agents if agent["serverId"] == "beta")
    n = next(n for n, task in enumerate(tasks) if task["id"] == on_beta["taskId"])
    diff = js(a, "task", "diff", on_beta["taskId"])
    assert [f["path"] for f in diff["projects"][0]["files"]] == [f"t{n}.txt"]
    # The worker serves its agents' API, not the dashboard.
    assert b.call("query", "health")["ok"] is True
    assert _status_of(f"http://127.0.0.1:{b.port}/") == 404
    assert _status_of(f"http://127.0.0.1:{a.port}/") != 404


def _status_of(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_server_killed_mid_run_leaves_its_tasks_to_the_other(
    deployment: Deployment, origin: Path, fake_agents: FakeAgents
) -> None:
    lease = {"CW_SERVER_LEASE_S": "3"}
    a = deployment.start("alpha", CW_MAX_AGENTS="2", **lease)
    b = deployment.start("beta", CW_MAX_AGENTS="4", **lease)
    initiative, _ = six_tasks(a, origin, fake_agents, seconds=4.0)

    ok(a, "initiative", "run", initiative["id"], "--max-agents", "4")

    def running_on_alpha() -> list[dict[str, Any]]:
        items = js(b, "agent", "list", "--status", "running")["items"]
        return [agent for agent in items if agent["serverId"] == "alpha"]

    doomed = until(running_on_alpha, "agents running on alpha")
    assert a.stop(signal.SIGKILL) == -signal.SIGKILL
    try:
        run_to_the_end(b, initiative)
        servers = {s["id"]: s for s in js(b, "server", "list")["servers"]}
        assert servers["alpha"]["live"] is False and servers["beta"]["live"] is True
        for agent in doomed:
            crashed = js(b, "agent", "show", agent["id"])
            assert crashed["status"] == "crashed"
            assert "its server alpha stopped reporting" in crashed["result"]["error"]
        landed_once(origin)
    finally:
        for agent in doomed:  # alpha's agents outlive it: stop what is left by its pid
            _kill_group(agent)


def _kill_group(agent: dict[str, Any]) -> None:
    pid, started = agent.get("pid"), agent.get("processStartedAt")
    if pid is None:
        return
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return
    if int(stat[stat.rfind(")") + 2 :].split()[19]) == started:
        os.killpg(pid, signal.SIGKILL)
