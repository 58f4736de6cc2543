"""What the runner's end-to-end tests share: a real server whose PATH starts with the
fake agent CLIs, a real git repository to work in, a plan to spawn agents on, and
bounded waits on the agent's state as `cw` reports it."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.agents.scripts import SCRIPTS_ENV
from tests.support.server import CW, ServerProcess

WAIT_S = 60.0


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def make_origin(path: Path) -> Path:
    """A repository with one commit on ``main``: the project's URL is its path."""
    path.mkdir(parents=True)
    git("init", "--quiet", "-b", "main", cwd=path)
    (path / "README.md").write_text("the project\n")
    git("add", ".", cwd=path)
    git("commit", "--quiet", "-m", "start", cwd=path)
    return path


def ok(server: ServerProcess, *args: str, env: dict[str, str] | None = None) -> str:
    done = server.cw(*args, env=env)
    assert done.returncode == 0, f"cw {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return done.stdout


def js(server: ServerProcess, *args: str) -> Any:
    return json.loads(ok(server, *args, "--json"))


def refused(server: ServerProcess, *args: str) -> str:
    done = server.cw(*args)
    assert done.returncode == 1, f"cw {' '.join(args)} -> {done.returncode}: {done.stdout}"
    assert "Traceback" not in done.stderr
    return done.stderr


def until(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def agent_in(server: ServerProcess, agent_id: str, *statuses: str) -> dict[str, Any]:
    """The agent once it is in one of ``statuses`` (as ``cw agent show`` says)."""
    return until(
        lambda: (a := js(server, "agent", "show", agent_id))["status"] in statuses and a,
        f"agent {agent_id} to be {' or '.join(statuses)}",
    )


@dataclass
class Plan:
    initiative: dict[str, Any]
    phase: dict[str, Any]
    project: dict[str, Any]
    origin: Path

    def task(self, server: ServerProcess, name: str, description: str) -> dict[str, Any]:
        task: dict[str, Any] = js(
            server,
            "task",
            "create",
            "--phase",
            self.phase["id"],
            name,
            "--description",
            description,
        )
        return task


def make_plan(server: ServerProcess, tmp_path: Path) -> Plan:
    origin = make_origin(tmp_path / "origin")
    initiative = js(server, "initiative", "create", "Auth rewrite")
    phase = js(server, "phase", "create", "--initiative", initiative["id"], "Backend")
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", initiative["id"], project["id"])
    return Plan(initiative, phase, project, origin)


def runner_server(
    tmp_path: Path, fake_agents: FakeAgents, database: str | None = None, **env: str
) -> Iterator[ServerProcess]:
    """A real server that finds the fake ``claude`` and ``codex`` first on its PATH, on
    ``database`` (a URL; default SQLite in its data directory)."""
    extra = {
        key: value
        for key, value in fake_agents.env().items()
        if not key.startswith("CW_") or key == SCRIPTS_ENV
    }
    extra.update(CW_AGENT_STOP_GRACE_S="3", **env)
    process = ServerProcess(home=tmp_path / "home", database=database, server_env=extra).start()
    try:
        yield process
    finally:
        process.close()


def clone_of(server: ServerProcess, project: dict[str, Any]) -> Path:
    return server.home / "projects" / f"{project['id']}.git"


def worktrees_listed(clone: Path) -> list[str]:
    out = git("worktree", "list", "--porcelain", cwd=clone)
    return [
        line.split(" ", 1)[1]
        for line in out.splitlines()
        if line.startswith("worktree ") and Path(line.split(" ", 1)[1]) != clone
    ]


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def stop_leftovers(server: ServerProcess) -> None:
    """End of test: stop every agent still running (by the runner, so by its pid)."""
    if server.process is None:
        return
    for agent in js(server, "agent", "list", "--status", "running")["items"]:
        server.cw("agent", "stop", agent["id"])


__all__ = ["pytest"]


def claude_hook(server: ServerProcess, agent: dict[str, Any], worktree: Path, event: str) -> str:
    """What the real `cw hook claude EVENT` prints, run as Claude Code runs it in the
    agent's worktree with the agent's identity."""
    payload = {"session_id": "s1", "cwd": str(worktree), "hook_event_name": event}
    done = subprocess.run(
        [CW, "hook", "claude", event],
        env=server.env(CW_AGENT_ID=agent["id"], CW_TOKEN=agent["token"], CLAUDE_PROJECT_DIR=""),
        cwd=worktree,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
