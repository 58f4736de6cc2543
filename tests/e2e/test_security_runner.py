"""An agent that crosswalk runs, attacking through what it has: its own `CW_TOKEN`, the
`cw` its permissions allow, and files in its worktree. The real server runs the fake
agent CLIs in real git worktrees (docs/security.md, docs/runner.md)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import (
    Plan,
    agent_in,
    js,
    ok,
    until,
)
from tests.support.server import CallError, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.runner]  # `server` runs the fake agents (conftest.py)


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


def test_an_agent_cannot_make_the_runner_read_another_agents_file_or_the_admin_token(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    """The attack: an agent records itself running with someone else's file as its
    output (through `cw`, which its permissions allow, or in a row written by anyone),
    or plants a link named like a session file; the next server start would adopt that
    "run" and copy the file into the attacker's own log, and take the victim's session."""
    victim_key = fake_agents.script(
        "victim", [{"kind": "text", "text": "VICTIM-SECRET"}, {"kind": "result"}]
    )
    victim = js(server, "agent", "spawn", "--task", plan.task(server, "V", victim_key)["id"])
    victim = agent_in(server, victim["id"], "idle")
    victim_file = victim["outputFilePath"]
    admin_token = server.admin_token

    update = "cw agent update"
    attacker_key = fake_agents.script(
        "attacker",
        [
            {"kind": "bash", "command": f"{update} --output-file {victim_file} 2> output-file.err"},
            {"kind": "bash", "command": f"{update} --status running --pid 1 2> pid.err"},
            {"kind": "bash", "command": f"{update} --session-id {victim['sessionId']} 2> s.err"},
            {"kind": "bash", "command": f"ln -s {server.home / 'admin-token'} session-2.jsonl"},
            {"kind": "result", "text": "tried"},
        ],
    )
    task = plan.task(server, "A", attacker_key)
    attacker = js(server, "agent", "spawn", "--task", task["id"])
    attacker = agent_in(server, attacker["id"], "idle")
    worktree = Path(attacker["worktreeId"])
    # Through `cw`, from inside its run, the runner following it: FORBIDDEN, named.
    for name, field in (("output-file", "outputFilePath"), ("pid", "pid"), ("s", "sessionId")):
        refusal = (worktree / f"{name}.err").read_text()
        assert f"may not set {field}" in refusal, refusal
    mine = attacker["sessionId"]
    assert mine != victim["sessionId"]
    own_dir = server.home / "agents" / attacker["id"]
    planted = own_dir / "session-2.jsonl"
    planted.symlink_to(server.home / "admin-token")

    # A row says otherwise (an older version accepted it, or anyone who could write it).
    for recorded in (victim_file, str(planted), str(worktree / "session-2.jsonl")):
        server.stop()
        with sqlite3.connect(server.home / "crosswalk.db") as db:
            db.execute(
                "UPDATE agents SET status = 'running', pid = 1, output_file_path = ? WHERE id = ?",
                (recorded, attacker["id"]),
            )
        server.start()
        after = agent_in(server, attacker["id"], "crashed")
        assert "refused, not read" in after["result"]["error"], after
        assert after["sessionId"] == mine
        assert f"agent {attacker['name']} ({attacker['id']})" in server.log()
        logged = ok(server, "logs", "show", attacker["id"], "--raw")
        assert "VICTIM-SECRET" not in logged
        assert admin_token not in logged
        assert admin_token not in json.dumps(after)
    assert js(server, "agent", "show", victim["id"])["sessionId"] == victim["sessionId"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_everything_the_runner_writes_is_private(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    server.call("mutation", "account.create", {"email": "a@example.com", "credentials": "{}"})
    server.call(
        "mutation",
        "initiative.update",
        {"id": plan.initiative["id"], "mergeRequiresApproval": False},
    )
    key = fake_agents.script(
        "work",
        [
            {"kind": "write", "path": "done.txt", "content": "done\n"},
            {"kind": "bash", "command": "echo to-stderr >&2"},
            {"kind": "result", "text": "ok"},
        ],
    )
    task = plan.task(server, "Work", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    agent = agent_in(server, spawned["id"], "idle")
    until(lambda: js(server, "task", "show", task["id"])["status"] == "completed", "the merge")

    home = server.home
    run_dir = home / "agents" / agent["id"]
    directories = [
        home / "agents",
        run_dir,
        home / "worktrees",
        home / "worktrees" / agent["id"],
        home / "projects",
        home / "projects" / f"{plan.project['id']}.git",
        home / "accounts",
        home / "accounts" / agent["accountId"],
        home / "merges",
        *(home / "merges").iterdir(),
    ]
    files = [run_dir / f"session-1.{suffix}" for suffix in ("jsonl", "stderr", "exit")]
    files += [path for path in (home / "accounts" / agent["accountId"]).iterdir() if path.is_file()]
    assert len(files) > 3
    for path in directories:
        assert (path, oct(mode(path))) == (path, oct(0o700))
    for path in files:
        assert (path, oct(mode(path))) == (path, oct(0o600))


def test_values_git_would_read_as_options_are_refused_and_never_run(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    evil_url = f"--upload-pack=touch {marker}"
    for args, says in (
        (("project", "create", "evil", "--", evil_url), "url: git will not be given"),
        (("project", "create", "evil", "ext::sh -c touch% x"), "ext:: transport runs a command"),
        (("project", "update", plan.project["id"], "--default-branch=-h"), "defaultBranch: '-h'"),
        (("initiative", "create", "Evil", "--branch=--orphan"), "branch: '--orphan' cannot be"),
    ):
        done = server.cw(*args)
        assert done.returncode == 1, (args, done.stdout)
        assert says in done.stderr and "Traceback" not in done.stderr, done.stderr

    # One stored before these checks existed reaches git as a URL, not an option.
    with sqlite3.connect(server.home / "crosswalk.db") as db:
        db.execute("UPDATE projects SET url = ? WHERE id = ?", (evil_url, plan.project["id"]))
    task = plan.task(server, "T", fake_agents.script("never", [{"kind": "result"}]))
    refusal = server.cw("agent", "spawn", "--task", task["id"])
    assert refusal.returncode == 1
    assert f"repository '{evil_url}' does not exist" in refusal.stderr, refusal.stderr
    assert not marker.exists()
