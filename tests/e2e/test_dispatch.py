"""The initiative runs itself: a real server dispatches the fake `claude` (real
subprocesses) in real git worktrees, merges their work into the initiative branch of
its real clone, and everything is driven and checked through the real `cw`."""

from __future__ import annotations

import json
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
    runner_server,
    stop_leftovers,
    until,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

RUN_S = 120.0  # bound on a whole initiative's run


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents):
        try:
            yield process
        finally:
            stop_leftovers(process)


def initiative(
    server: ServerProcess, tmp_path: Path, *, approval: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An initiative on a fresh repository (the project's URL is its path)."""
    origin = make_origin(tmp_path / "origin")
    flag = "--merge-requires-approval" if approval else "--no-merge-requires-approval"
    made = js(server, "initiative", "create", "Auth rewrite", flag)
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", made["id"], project["id"])
    return made, project


def task(server: ServerProcess, init: dict[str, Any], name: str, *extra: str) -> dict[str, Any]:
    made: dict[str, Any] = js(server, "task", "create", "--initiative", init["id"], name, *extra)
    return made


def status(server: ServerProcess, init: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = js(server, "initiative", "status", init["id"])
    return found


def task_status(server: ServerProcess, task_id: str) -> str:
    return str(js(server, "task", "show", task_id)["status"])


def on_branch(clone: Path, branch: str, name: str) -> str | None:
    return git("show", f"{branch}:{name}", cwd=clone) if _exists(clone, branch, name) else None


def _exists(clone: Path, branch: str, name: str) -> bool:
    listed = git("ls-tree", "--name-only", branch, cwd=clone)
    return name in listed.split()


def test_five_tasks_run_to_the_end_in_dependency_order_two_agents_at_most(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    init, project = initiative(server, tmp_path)
    journal = tmp_path / "journal.txt"  # outside every worktree: start/end of each run
    tasks: dict[str, dict[str, Any]] = {}
    for name in ("a", "b", "c", "d", "e"):
        key = fake_agents.script(
            name,
            [
                {"kind": "bash", "command": f"echo start {name} >> {journal}"},
                {"kind": "write", "path": f"{name}.txt", "content": f"task {name}\n"},
                {"kind": "sleep", "seconds": 0.5},
                {"kind": "bash", "command": f"echo end {name} >> {journal}"},
                {"kind": "result", "text": f"wrote {name}.txt"},
            ],
        )
        tasks[name] = task(server, init, f"task {name}", "--description", f"Write it.\n{key}")
    # a diamond (a -> b, c -> d) and a chain (d -> e)
    for dependent, prerequisite in (("b", "a"), ("c", "a"), ("d", "b"), ("d", "c"), ("e", "d")):
        ok(server, "task", "dep", "add", tasks[dependent]["id"], tasks[prerequisite]["id"])

    started = ok(server, "initiative", "run", init["id"], "--max-agents", "2")
    assert "at most 2 agents" in started

    until(
        lambda: status(server, init)["dispatch"]["status"] == "off",
        "the initiative to finish",
        timeout=RUN_S,
    )
    final = status(server, init)
    assert [t["name"] for t in final["tasks"]["completed"]] and all(
        not final["tasks"][state] for state in final["tasks"] if state != "completed"
    ), final
    assert final["runningAgents"] == []

    events = [line.split() for line in journal.read_text().splitlines()]
    running: set[str] = set()
    ended: set[str] = set()
    needs = {"b": {"a"}, "c": {"a"}, "d": {"b", "c"}, "e": {"d"}}
    for kind, name in events:
        if kind == "start":
            assert needs.get(name, set()) <= ended, f"{name} started before {needs[name]}"
            running.add(name)
            assert len(running) <= 2, f"more than two agents at once: {running}"
        else:
            running.discard(name)
            ended.add(name)
    assert ended == set(tasks)

    clone = clone_of(server, project)
    branch = init["branch"]
    for name in tasks:
        assert on_branch(clone, branch, f"{name}.txt") == f"task {name}\n"
    for name, made in tasks.items():
        [agent] = js(server, "agent", "list", "--task", made["id"])["items"]
        merge = agent["result"]["merge"]["api"]
        assert git("cat-file", "-t", merge["commit"], cwd=clone).strip() == "commit", name


def test_approval_conflict_and_checkpoint(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    init, project = initiative(server, tmp_path)
    clone = clone_of(server, project)
    branch = init["branch"]

    def writes(name: str, path: str, content: str) -> str:
        return fake_agents.script(
            name,
            [
                {"kind": "write", "path": path, "content": content},
                {"kind": "result", "text": f"wrote {path}"},
            ],
        )

    gate = tmp_path / "second-may-finish"
    gated = task(
        server, init, "gated", "--requires-approval", "--priority", "low",
        "--description", writes("gated", "gated.txt", "needs a look\n"),
    )  # fmt: skip
    # first and second start together from the same commit and both change README.md;
    # second finishes only once first is merged, so its merge conflicts
    first = task(
        server, init, "first", "--priority", "high",
        "--description", writes("first", "README.md", "first's readme\n"),
    )  # fmt: skip
    second_key = fake_agents.script(
        "second",
        [
            {"kind": "write", "path": "README.md", "content": "second's readme\n"},
            {"kind": "wait_for_file", "path": str(gate), "timeout": 60},
            {"kind": "result", "text": "wrote README.md"},
        ],
    )
    second = task(server, init, "second", "--priority", "high", "--description", second_key)
    check = task(
        server, init, "staging looks right", "--type", "checkpoint:human-verify",
        "--description", "open staging and log in",
    )  # fmt: skip

    ok(server, "initiative", "run", init["id"], "--max-agents", "2")
    until(lambda: task_status(server, first["id"]) == "completed", "first to merge")
    gate.write_text("go\n")

    # the approval-gated task waits with its work unmerged
    until(lambda: task_status(server, gated["id"]) == "pending_approval", "gated to wait")
    assert not _exists(clone, branch, "gated.txt")
    shown = status(server, init)
    [waiting] = shown["tasks"]["pending_approval"]
    assert (
        waiting["waitingFor"] == f"a person's approval of the merge: cw task approve {gated['id']}"
    )
    approved = ok(server, "task", "approve", gated["id"])
    assert f"approved task 'gated' ({gated['id']}): now completed" in approved
    assert on_branch(clone, branch, "gated.txt") == "needs a look\n"

    # the conflicting task ends blocked with a question in the inbox
    until(lambda: task_status(server, second["id"]) == "blocked", "second to conflict")
    assert on_branch(clone, branch, "README.md") == "first's readme\n"
    inbox = js(server, "inbox")
    [conflict] = [m for m in inbox if m.get("taskId") == second["id"]]
    assert "README.md" in conflict["content"]
    assert f"cw task retry-merge {second['id']}" in conflict["content"]
    assert conflict["senderName"] == "crosswalk"
    assert "crosswalk" in ok(server, "inbox")  # the person's view names who asks

    # the checkpoint waits for the person's reply
    [verify] = [m for m in inbox if m.get("taskId") == check["id"]]
    assert "open staging and log in" in verify["content"]
    assert task_status(server, check["id"]) == "in_progress"
    ok(server, "reply", verify["id"], "verified on staging")
    assert task_status(server, check["id"]) == "completed"

    # someone fixes the agent branch; retry-merge lands it
    [agent] = js(server, "agent", "list", "--task", second["id"])["items"]
    worktree = Path(agent["worktreeId"])
    git("merge", "--quiet", "-X", "ours", branch, cwd=worktree)
    retried = ok(server, "task", "retry-merge", second["id"])
    assert "now completed" in retried
    assert on_branch(clone, branch, "README.md") == "second's readme\n"
    assert [m for m in js(server, "inbox") if m.get("taskId") == second["id"]] == []
    until(lambda: status(server, init)["dispatch"]["status"] == "off", "the initiative to finish")
    assert json.dumps(status(server, init)["tasks"]["blocked"]) == "[]"
