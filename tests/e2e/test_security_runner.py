"""An agent that crosswalk runs, attacking through what it has: its own `CW_TOKEN`, the
`cw` its permissions allow, and files in its worktree. The real server runs the fake
agent CLIs in real git worktrees (docs/security.md, docs/runner.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import (
    Plan,
    agent_in,
    js,
    make_plan,
    runner_server,
    stop_leftovers,
    until,
)
from tests.support.server import CallError, ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents):
        try:
            yield process
        finally:
            stop_leftovers(process)


@pytest.fixture
def plan(server: ServerProcess, tmp_path: Path) -> Plan:
    return make_plan(server, tmp_path)


def refused_token(server: ServerProcess, agent: dict[str, Any], token: str) -> None:
    """``token`` no longer works, through `cw` and over the wire."""
    done = server.cw("agent", "show", env={"CW_AGENT_ID": agent["id"], "CW_TOKEN": token})
    assert done.returncode == 1, done.stdout
    assert "not valid" in done.stderr
    with pytest.raises(CallError) as refused:
        server.call("query", "agent.get", {"id": agent["id"]}, token=token)
    assert refused.value.code == "UNAUTHORIZED"


def remember_token(n: int) -> dict[str, Any]:
    """A step that keeps the run's token in the worktree and uses it (so the server
    caches it)."""
    command = f'printf %s "$CW_TOKEN" > token-{n}; cw agent show --json > me-{n}.json'
    return {"kind": "bash", "command": command}


def test_a_spawned_agents_token_dies_with_its_run_and_each_resume_gets_a_new_one(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    # A resume's prompt names no script: the fake runs "default" again, as run 2.
    key = fake_agents.script(
        "default",
        [remember_token(1), {"kind": "result", "text": "first"}],
        [remember_token(2), {"kind": "exit", "code": 3}],
    )
    task = plan.task(server, "Tokens", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    first = agent_in(server, spawned["id"], "idle")
    worktree = Path(first["worktreeId"])
    token_1 = (worktree / "token-1").read_text()
    assert json.loads((worktree / "me-1.json").read_text())["id"] == first["id"]  # it worked
    refused_token(server, first, token_1)

    js(server, "agent", "resume", first["name"])
    agent_in(server, first["id"], "crashed")
    token_2 = (worktree / "token-2").read_text()
    assert token_2 != token_1
    assert json.loads((worktree / "me-2.json").read_text())["id"] == first["id"]
    refused_token(server, first, token_2)
    refused_token(server, first, token_1)


def test_a_stopped_agents_token_stops_working_and_a_registered_agent_keeps_its_own(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script("stay", [remember_token(1), {"kind": "sleep", "seconds": 120}])
    task = plan.task(server, "Stay", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    worktree = Path(spawned["worktreeId"])
    until(lambda: (worktree / "me-1.json").exists(), "the agent to use its token")
    token = (worktree / "token-1").read_text()
    js(server, "agent", "stop", spawned["id"])
    refused_token(server, spawned, token)

    by_hand = server.create_agent(name="by-hand")
    js(server, "agent", "stop", "by-hand")
    shown = server.call("query", "agent.get", {"id": "by-hand"}, token=by_hand["token"])
    assert shown["status"] == "stopped"
