"""The runner drives the real Codex CLI (pinned in tests/agents, from npm) against a
stand-in for the OpenAI Responses API: the model asks for a shell command, the real CLI
runs it in the agent's worktree (sandboxed to it), and the agent ends idle with the
thread id as its session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agents import real_clis
from tests.agents.kit import FakeAgents
from tests.agents.standin_openai import OpenAIStandin, bash, text, texts_in
from tests.e2e.runner_kit import (
    agent_in,
    js,
    make_plan,
    ok,
    runner_server,
    stop_leftovers,
    until,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def server(
    tmp_path: Path, fake_agents: FakeAgents, real_codex: Path, openai_standin: OpenAIStandin
) -> Iterator[ServerProcess]:
    env = real_clis.codex_env(openai_standin.url, tmp_path / "codex-home")
    env.update(CW_CODEX_PATH=str(real_codex))
    for process in runner_server(tmp_path, fake_agents, **env):
        try:
            yield process
        finally:
            stop_leftovers(process)


def test_the_real_codex_runs_a_command_in_the_worktree(
    server: ServerProcess, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    openai_standin.script(bash("echo made by codex > codex.txt"), text("All done."))
    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Codex file", "Create codex.txt in the worktree.")

    spawned = js(server, "agent", "spawn", "--task", task["id"], "--provider", "codex")
    agent = agent_in(server, spawned["id"], "idle", "crashed")

    assert agent["status"] == "idle", agent["result"]
    assert (Path(agent["worktreeId"]) / "codex.txt").read_text() == "made by codex\n"
    assert agent["result"]["result"] == "All done."
    raw = ok(server, "logs", "show", agent["id"], "--raw")
    events = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
    [started] = [e for e in events if e.get("type") == "thread.started"]
    assert agent["sessionId"] == started["thread_id"]
    assert "tool exec:" in ok(server, "logs", "show", agent["id"])


def test_the_real_codex_is_given_crosswalks_mcp_server_for_the_run(
    server: ServerProcess, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    """`-c mcp_servers.crosswalk.*` on the command line: Codex connects to the server's /mcp
    (the token from CW_TOKEN, which the endpoint requires even to list tools) and offers
    its tools as one namespace. Codex does not wait for a server before the first turn
    (only for one marked `required`, and then a server that fails to start fails the
    run), so the model runs a command first and the request after it is the one read."""
    openai_standin.script(bash("sleep 5"), text("All done."))
    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Codex tools", "Look at your tools.")

    spawned = js(server, "agent", "spawn", "--task", task["id"], "--provider", "codex")
    agent = agent_in(server, spawned["id"], "idle", "crashed")

    assert agent["status"] == "idle", agent["result"]
    last = openai_standin.response_requests()[-1].body
    [crosswalk] = [tool for tool in last["tools"] if tool.get("name") == "mcp__crosswalk"]
    assert sorted(tool["name"] for tool in crosswalk["tools"]) == [
        "answer", "ask", "pending", "wait", "whoami",
    ]  # fmt: skip


def test_a_question_asked_while_the_real_codex_works_reaches_its_next_request(
    server: ServerProcess, openai_standin: OpenAIStandin, tmp_path: Path
) -> None:
    """The runner hands Codex crosswalk's hooks trusted for that run: a question asked
    while the agent runs a command is in the very next request the CLI makes (a developer
    message from its PostToolUse hook), and the user's Codex configuration is unchanged."""
    go = tmp_path / "go"
    openai_standin.script(
        bash(f"touch started; while [ ! -e {go} ]; do sleep 0.1; done"),
        text("Port 8080."),
    )
    codex_config = tmp_path / "codex-home" / ".codex" / "config.toml"
    before = codex_config.read_text()
    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Codex waits", "Wait for go, then answer.")
    asker = server.create_agent(name="asker")

    spawned = js(server, "agent", "spawn", "--task", task["id"], "--provider", "codex")
    worktree = Path(spawned["worktreeId"])
    until(lambda: (worktree / "started").exists(), "the command to start")
    asked = server.cw("ask", "--agent", spawned["name"], "--no-wait", "which port?", agent=asker)
    assert asked.returncode == 0, asked.stderr
    go.touch()
    agent_in(server, spawned["id"], "idle", "crashed")

    requests = openai_standin.response_requests()
    after_tool = [
        texts_in([item for item in r.body["input"] if item.get("role") == "developer"])
        for r in requests[1:]
    ]
    assert any("which port?" in text for texts in after_tool[:1] for text in texts), after_tool
    assert codex_config.read_text() == before
