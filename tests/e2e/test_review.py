"""The person's side of the loop, end to end: a real server runs the fake `claude` in real
git worktrees; the person reads the diff, sends the work back with a comment, approves
it, and pushes the initiative branch to the project's own (bare) repository; what the
runs cost adds up. Everything is driven and checked through the real `cw`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import (
    clone_of,
    git,
    js,
    make_origin,
    ok,
    refused,
    runner_server,
    stop_leftovers,
    until,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents):
        try:
            yield process
        finally:
            stop_leftovers(process)


def bare_origin(tmp_path: Path) -> Path:
    """The project's repository as people host it: bare, ``main`` with one commit."""
    seed = make_origin(tmp_path / "seed")
    origin = tmp_path / "api.git"
    git("clone", "--quiet", "--bare", str(seed), str(origin), cwd=tmp_path)
    return origin


def linked(server: ServerProcess, origin: Path, *flags: str) -> dict[str, Any]:
    made: dict[str, Any] = js(server, "initiative", "create", "Login", *flags)
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", made["id"], project["id"])
    return made


def task_status(server: ServerProcess, task_id: str) -> str:
    return str(js(server, "task", "show", task_id)["status"])


def claude_runs(fake_agents: FakeAgents) -> list[dict[str, Any]]:
    return list(fake_agents.calls("claude"))


def test_diff_request_changes_approve_and_push(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    origin = bare_origin(tmp_path)
    init = linked(server, origin, "--merge-requires-approval")
    commit = "git add login.py && git -c user.name=a -c user.email=a@a commit -qm login"
    # "default": the resume's prompt (the person's comment) names no script
    fake_agents.script(
        "default",
        [
            {"kind": "write", "path": "login.py", "content": "def login(): pass\n"},
            {"kind": "bash", "command": commit},
            {"kind": "write", "path": "notes.txt", "content": "left\nuntracked\n"},
            {"kind": "result", "text": "wrote login", "usage": {
                "total_cost_usd": 0.5, "input_tokens": 100, "output_tokens": 40,
                "cache_read_input_tokens": 1000, "cache_creation_input_tokens": 300}},
        ],
        [
            {"kind": "write", "path": "login.py",
             "content": "def login(password):\n    return check(password)\n"},
            {"kind": "result", "text": "checks it", "usage": {
                "total_cost_usd": 0.25, "input_tokens": 50, "output_tokens": 20}},
        ],
    )  # fmt: skip
    task = js(server, "task", "create", "--initiative", init["id"], "Login form",
              "--description", "Write the login.")  # fmt: skip
    assert "has no agent yet: nothing has changed" in ok(server, "task", "diff", task["id"])

    ok(server, "initiative", "run", init["id"])
    until(lambda: task_status(server, task["id"]) == "pending_approval", "the work to wait")

    stat = ok(server, "task", "diff", task["id"], "--stat")
    assert "added  login.py  +1 -0" in stat and "added  notes.txt  +2 -0" in stat
    assert "2 files changed, +3 -0" in stat and "uncommitted and untracked" in stat
    found = js(server, "task", "diff", task["id"])
    [project] = found["projects"]
    assert (project["project"], project["source"], project["error"]) == ("api", "worktree", None)
    files = {f["path"]: f for f in project["files"]}
    assert files["notes.txt"]["patch"].endswith("+left\n+untracked\n")
    assert "+def login(): pass" in ok(server, "task", "diff", task["id"])

    sent = ok(server, "task", "reject", task["id"], "Check the password")
    assert "now in_progress" in sent
    until(
        lambda: (
            task_status(server, task["id"]) == "pending_approval"
            and len(claude_runs(fake_agents)) == 2
        ),
        "the reworked run to wait for approval again",
    )
    second = claude_runs(fake_agents)[-1]["argv"]
    assert "--resume" in second
    assert any("Check the password" in arg for arg in second)
    assert "+def login(password):" in ok(server, "task", "diff", task["id"])

    status = js(server, "initiative", "status", init["id"])
    assert status["usage"] == {
        "runs": 2, "running": 0, "costUsd": 0.75, "turns": status["usage"]["turns"],
        "runSeconds": status["usage"]["runSeconds"], "inputTokens": 150, "outputTokens": 60,
        "cacheCreationTokens": 300, "cacheReadTokens": 1000,
    }  # fmt: skip
    [waiting] = status["tasks"]["pending_approval"]
    assert (waiting["usage"]["runs"], waiting["usage"]["costUsd"]) == (2, 0.75)
    assert "spent: $0.75" in ok(server, "initiative", "status", init["id"])

    assert "now completed" in ok(server, "task", "approve", task["id"])
    assert js(server, "initiative", "show", init["id"])["status"] == "completed"
    assert "not pending_approval" in refused(server, "task", "reject", task["id"], "more")
    merged = js(server, "task", "diff", task["id"])["projects"][0]
    assert merged["source"] == "merged"
    assert {f["path"] for f in merged["files"]} == {"login.py", "notes.txt"}

    # the work reaches the person's repository
    branch = init["branch"]
    assert "pushed" in ok(server, "initiative", "push", init["id"])
    clone = clone_of(server, js(server, "project", "list")["items"][0])
    head = git("rev-parse", f"refs/heads/{branch}", cwd=clone).strip()
    assert git("rev-parse", branch, cwd=origin).strip() == head
    assert git("show", f"{branch}:login.py", cwd=origin).startswith("def login(password):")
    assert "already at" in ok(server, "initiative", "push", init["id"], "--project", "api")

    # someone pushed to that branch by hand: crosswalk refuses, naming it, and leaves it
    theirs = tmp_path / "theirs"
    git("clone", "--quiet", "--branch", branch, str(origin), str(theirs), cwd=tmp_path)
    (theirs / "hotfix.txt").write_text("by hand\n")
    git("add", "hotfix.txt", cwd=theirs)
    git("commit", "--quiet", "-m", "hotfix", cwd=theirs)
    git("push", "--quiet", "origin", branch, cwd=theirs)
    message = refused(server, "initiative", "push", init["id"])
    assert f"refused to push to {branch} at {origin}" in message and "diverged" in message
    assert git("show", f"{branch}:hotfix.txt", cwd=origin) == "by hand\n"
    [push] = js(server, "initiative", "status", init["id"])["pushes"]
    assert push["pushedCommit"] == head and "diverged" in push["pushError"]
    assert "last push failed" in ok(server, "initiative", "status", init["id"])


def test_auto_push_lands_every_merge_and_the_initiative_completes(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    origin = bare_origin(tmp_path)
    init = linked(server, origin, "--auto-push", "--no-merge-requires-approval")
    assert js(server, "initiative", "show", init["id"])["autoPush"] is True
    for name in ("a", "b"):
        key = fake_agents.script(
            name, [{"kind": "write", "path": f"{name}.txt", "content": f"{name}\n"}]
        )
        js(server, "task", "create", "--initiative", init["id"], f"task {name}",
           "--description", key)  # fmt: skip

    ok(server, "initiative", "run", init["id"])
    until(
        lambda: js(server, "initiative", "show", init["id"])["status"] == "completed",
        "the initiative to complete",
    )
    branch = init["branch"]
    until(
        lambda: all(
            name in git("ls-tree", "--name-only", branch, cwd=origin).split()
            for name in ("a.txt", "b.txt")
        ),
        "both merges to be pushed",
    )
    status = js(server, "initiative", "status", init["id"])
    [push] = status["pushes"]
    assert push["pushedCommit"] == git("rev-parse", branch, cwd=origin).strip()
    assert (status["autoPush"], push["pushError"]) == (True, None)
    assert "pushed to (after every merge):" in ok(server, "initiative", "status", init["id"])
    assert len(status["tasks"]["completed"]) == 2
