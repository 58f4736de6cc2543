"""Every question gets an answer: an agent whose run ended idle is resumed in its own
session, in its own worktree, to answer. A real server, real git, real `cw`, and the
fake `claude` and `codex` (real subprocesses speaking the real CLIs' formats)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import (
    agent_in,
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

RUN_S = 120.0


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents):
        try:
            yield process
        finally:
            stop_leftovers(process)


def initiative(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    origin = make_origin(tmp_path / "origin")
    made: dict[str, Any] = js(
        server, "initiative", "create", "Auth rewrite", "--no-merge-requires-approval"
    )
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", made["id"], project["id"])
    return made


def task(server: ServerProcess, init: dict[str, Any], name: str, description: str) -> Any:
    return js(
        server, "task", "create", "--initiative", init["id"], name, "--description", description
    )


def builder_script(fake_agents: FakeAgents, name: str = "builder") -> str:
    """Run 1 builds; the resume that follows answers the questions its prompt lists."""
    return fake_agents.script(
        name,
        [
            {"kind": "write", "path": "tokens.py", "content": "PORT = 8443\n"},
            {"kind": "result", "text": "built the token service"},
        ],
        [
            {"kind": "answer_prompt_questions", "text": "I added tokens.py; it listens on 8443"},
            {"kind": "result", "text": "answered"},
        ],
    )


@pytest.mark.parametrize("provider", ["claude", "codex"])
def test_the_agent_of_a_dependent_task_asks_the_finished_one_and_gets_its_answer(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents, provider: str
) -> None:
    """A then B (B depends on A). A's agent finishes and is idle; B's agent asks
    `cw ask --task A`; A is resumed in its own session and answers; B prints it."""
    init = initiative(server, tmp_path)
    a = task(server, init, "Token service", f"Build it.\n{builder_script(fake_agents)}")
    asking = fake_agents.script(
        "asker",
        [
            {
                "kind": "bash",
                "command": f"cw ask --task {a['id']} --timeout 60 'what did you change?' "
                "> answer.txt 2> ask.err",
                "timeout": 90,
            },
            {"kind": "result", "text": "asked"},
        ],
    )
    b = task(server, init, "Client", f"Use the token service.\n{asking}")
    ok(server, "task", "dep", "add", b["id"], a["id"])
    ok(server, "initiative", "run", init["id"], "--provider", provider)

    until(
        lambda: js(server, "initiative", "status", init["id"])["dispatch"]["status"] == "off",
        "the initiative to finish",
        timeout=RUN_S,
    )
    [b_agent] = _agents_on(server, b)
    answer = (Path(b_agent["worktreeId"]) / "answer.txt").read_text()
    assert answer == "I added tokens.py; it listens on 8443\n"

    [a_agent] = _agents_on(server, a)
    a_agent = agent_in(server, a_agent["id"], "idle")
    answering = a_agent["lastAnsweringRun"]
    assert (answering["sessionNumber"], answering["outcome"]) == (2, "answered")
    assert answering["leftChanges"] == []
    assert js(server, "task", "show", a["id"])["status"] == "completed"
    sessions = {chunk["sessionNumber"] for chunk in js(server, "logs", "show", a_agent["id"])}
    assert sessions == {1, 2}
    calls = [c for c in fake_agents.calls(provider) if c["env"]["CW_AGENT_ID"] == a_agent["id"]]
    assert [c["run_index"] for c in calls] == [0, 1]
    assert calls[1]["session_id"] == calls[0]["session_id"]  # its own session, resumed
    assert calls[1]["cwd"] == calls[0]["cwd"]  # in its own worktree


def _agents_on(server: ServerProcess, task: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = js(server, "agent", "list", "--task", task["id"])["items"]
    return found


def test_the_person_asks_an_idle_agent_whose_worktree_is_gone(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    """`cw ask --agent` with the admin token: the idle agent's worktree, removed by hand,
    is made again on its branch at the same path, and the answer comes from its session."""
    init = initiative(server, tmp_path)
    a = task(server, init, "Token service", f"Build it.\n{builder_script(fake_agents)}")
    spawned = js(server, "agent", "spawn", "--task", a["id"])
    agent = agent_in(server, spawned["id"], "idle")
    until(lambda: js(server, "task", "show", a["id"])["status"] == "completed", "the merge")
    worktree = Path(agent["worktreeId"])
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=worktree).strip()
    shutil.rmtree(worktree)

    asked = server.cw("ask", "--agent", agent["name"], "--timeout", "60", "what did you change?")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout == "I added tokens.py; it listens on 8443\n"
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=worktree).strip() == branch
    assert (worktree / "tokens.py").read_text() == "PORT = 8443\n"
    assert agent_in(server, agent["id"], "idle")["lastAnsweringRun"]["outcome"] == "answered"


def test_an_idle_agents_worktree_is_kept_by_clean_unless_idle_is_given(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> None:
    init = initiative(server, tmp_path)
    a = task(server, init, "Token service", f"Build it.\n{builder_script(fake_agents)}")
    agent = agent_in(server, js(server, "agent", "spawn", "--task", a["id"])["id"], "idle")
    ok(server, "agent", "clean")
    assert Path(agent["worktreeId"]).is_dir()
    refused = server.cw("agent", "clean", agent["name"])
    assert refused.returncode == 1 and "--idle" in refused.stderr
    ok(server, "agent", "clean", "--idle")
    assert not Path(agent["worktreeId"]).exists()


def test_an_idle_agent_not_run_by_crosswalk_gets_the_question_and_the_asker_is_told(
    server: ServerProcess,
) -> None:
    by_hand = server.create_agent(name="by-hand")
    asker = server.create_agent(name="asker")
    asked = server.cw("ask", "--agent", "by-hand", "--no-wait", "which port?", agent=asker)
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.count("\n") == 1
    assert "agent by-hand is idle and not run by crosswalk" in asked.stderr
    assert "the answer may take until it runs again" in asked.stderr
    [pending] = server.call("query", "conversation.pending", {"agentId": by_hand["id"]})
    assert pending["question"] == "which port?"
