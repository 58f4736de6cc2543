"""Asking whoever changed a file: a real server runs the fake `claude` in real git
worktrees, keeps the index of who changed what as they work, routes `cw ask --file` by
it, tells two agents whose unmerged work changed one file, and remembers a merged task's
agent. Everything is driven through the real `cw`."""

from __future__ import annotations

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
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.runner]  # `server` runs the fake agents (conftest.py)


def spawn(server: ServerProcess, plan: Plan, name: str, key: str) -> dict[str, Any]:
    task = plan.task(server, name, f"Do {name}.\n{key}")
    spawned: dict[str, Any] = js(server, "agent", "spawn", "--task", task["id"])
    return spawned


def owners(server: ServerProcess, plan: Plan, path: str) -> list[str]:
    found = js(server, "who", path, "--initiative", plan.initiative["id"])
    return [owner["agentName"] for owner in found["owners"]]


def pending(server: ServerProcess, agent: dict[str, Any]) -> list[Any]:
    found: list[Any] = server.call("query", "conversation.pending", {"agentId": agent["id"]})
    return found


def writes_then_answers(fake_agents: FakeAgents, name: str, path: str, gate: Path) -> str:
    """Write ``path``, hold at ``gate``, then answer the questions the hooks brought."""
    return fake_agents.script(
        name,
        [
            {"kind": "write", "path": path, "content": f"written by {name}\n"},
            {"kind": "wait_for_file", "path": str(gate), "timeout": 90},
            {"kind": "bash", "command": "echo looking for questions"},
            {"kind": "answer_seen_questions", "text": f"{name} wrote it"},
            {"kind": "result", "text": f"wrote {path}"},
        ],
    )


def test_an_ask_by_file_reaches_the_agent_that_wrote_it(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    journal = tmp_path / "answers.txt"
    gates = {name: tmp_path / f"{name}-may-go-on" for name in ("alice", "bob")}
    alice = spawn(
        server, plan, "alice", writes_then_answers(fake_agents, "alice", "a.txt", gates["alice"])
    )
    bob = spawn(
        server, plan, "bob", writes_then_answers(fake_agents, "bob", "src/b.txt", gates["bob"])
    )
    until(lambda: owners(server, plan, "a.txt") == [alice["name"]], "alice's change in the index")
    until(lambda: owners(server, plan, "src/b.txt") == [bob["name"]], "bob's change in the index")

    # carol asks from her own worktree, by paths as she sees them there
    asker = fake_agents.script(
        "asker",
        [
            {
                "kind": "bash",
                "command": f"cw ask --file a.txt 'who wrote a.txt?' --timeout 90 >> {journal}",
            },
            {
                "kind": "bash",
                "command": f"mkdir -p src && cd src && cw ask --file b.txt:1 'and b?' "
                f"--timeout 90 >> {journal}",
            },
            {"kind": "result", "text": "asked"},
        ],
    )
    carol = spawn(server, plan, "carol", asker)
    for agent, gate in ((alice, gates["alice"]), (bob, gates["bob"])):
        # each goes on, and answers, once carol's question to it waits
        until(lambda agent=agent: pending(server, agent), f"the question to {agent['name']}")
        gate.touch()
    agent_in(server, carol["id"], "idle")

    assert journal.read_text().splitlines() == ["alice wrote it", "bob wrote it"]
    asked = js(server, "conversation", "list", "--agent", carol["id"])["items"]
    routed = {c["question"]: (c["toAgentId"], c["targetKind"], c["taskId"]) for c in asked}
    assert routed == {
        "who wrote a.txt?": (alice["id"], "file", alice["taskId"]),
        "and b?": (bob["id"], "file", bob["taskId"]),
    }


def test_two_agents_that_change_one_file_are_each_told_once(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    spawned = {}
    for name in ("alice", "bob"):
        key = fake_agents.script(
            name,
            [
                {"kind": "write", "path": "shared.txt", "content": f"{name}'s version\n"},
                {"kind": "wait_for_file", "path": str(gate), "timeout": 90},
                {"kind": "bash", "command": "echo one"},
                {"kind": "bash", "command": "echo two"},
                {"kind": "result", "text": "done"},
            ],
        )
        spawned[name] = spawn(server, plan, name, key)
    alice, bob = spawned["alice"], spawned["bob"]
    initiative = plan.initiative["id"]

    def status() -> dict[str, Any]:
        found: dict[str, Any] = js(server, "initiative", "status", initiative)
        return found

    shown = until(lambda: (s := status())["overlaps"] and s["mergePreview"] and s, "the overlap")
    [overlap] = shown["overlaps"]
    assert overlap["file"] == "shared.txt"
    assert sorted(overlap["agents"]) == sorted([alice["id"], bob["id"]])
    [preview] = shown["mergePreview"]  # both added shared.txt, differently
    assert (preview["conflicts"], preview["files"]) == (True, ["shared.txt"])
    text = ok(server, "initiative", "status", initiative)
    assert "shared.txt:" in text and "conflicts in shared.txt" in text

    gate.touch()
    for agent in (alice, bob):
        agent_in(server, agent["id"], "idle")
    for told, other in ((alice, bob), (bob, alice)):
        seen = [s["text"] for s in fake_agents.seen() if s["agent_id"] == told["id"]]
        notices = [text for text in seen if "shared.txt: also changed by agent" in text]
        assert len(notices) == 1, seen  # once, though both ran two more tools
        assert f"agent {other['name']}" in notices[0]
        assert f'cw ask --agent {other["name"]} "QUESTION"' in notices[0]


def test_a_merged_tasks_agent_answers_for_its_file_after_it_finished(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    answering = [
        {"kind": "bash", "command": "echo resumed"},
        {"kind": "answer_seen_questions", "text": "I wrote m.txt for the merged task"},
        {"kind": "result", "text": "answered"},
    ]
    written = [
        {"kind": "write", "path": "m.txt", "content": "one\ntwo\n"},
        {"kind": "result", "text": "wrote m.txt"},
    ]
    key = fake_agents.script("merged", written, answering)
    # a resume whose prompt names no script (the server's own, to answer) answers too
    fake_agents.script("default", answering)
    writer = spawn(server, plan, "writer", key)
    agent_in(server, writer["id"], "idle")
    until(
        lambda: js(server, "task", "show", writer["taskId"])["status"] == "pending_approval",
        "the task to wait for approval",
    )
    ok(server, "task", "approve", writer["taskId"])
    found = until(
        lambda: (
            (f := js(server, "who", "m.txt", "--initiative", plan.initiative["id"]))["owners"]
            and f["owners"][0]["merged"]
            and f
        ),
        "the merged change in the index",
    )
    assert [(o["agentName"], o["merged"], o["lines"]) for o in found["owners"]] == [
        (writer["name"], True, [[1, 2]])
    ]

    task = plan.task(server, "reader", "reads m.txt")
    reader = js(server, "agent", "register", "--name", "reader", "--task", task["id"])
    asking = server.spawn_cw("ask", "--file", "m.txt:2", "why two lines?", agent=reader)
    until(lambda: pending(server, writer), "the question to the merged task's agent")
    resumed = server.cw("agent", "resume", writer["name"], f"Answer the question.\n{key}")
    # (a server that resumes idle agents to answer may have done so already)
    assert resumed.returncode == 0 or "running" in resumed.stderr, resumed.stderr
    out, err = asking.communicate(timeout=90)
    assert (asking.returncode, out.strip()) == (0, "I wrote m.txt for the merged task"), err
