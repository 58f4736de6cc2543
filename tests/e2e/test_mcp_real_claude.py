"""The real Claude Code CLI (pinned in tests/agents) asks and answers through `cw mcp`,
against the stand-in model: one agent started by the runner (which gives it the server
with --mcp-config and allows its tools under the default acceptEdits), the other started
by hand in a worktree where `cw mcp install --agent` was run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.agents import real_clis
from tests.agents.kit import FakeAgents
from tests.agents.standin_anthropic import AnthropicStandin, load_tools, text, texts_in, tool
from tests.e2e.runner_kit import agent_in, js, make_plan, ok, runner_server, stop_leftovers, until
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

QUESTION = "Which port does the auth service listen on?"


@pytest.fixture
def server(
    tmp_path: Path, fake_agents: FakeAgents, real_claude: Path, anthropic_standin: AnthropicStandin
) -> Iterator[ServerProcess]:
    """A server running the real CLI in the runner's default permission mode."""
    env = real_clis.claude_env(anthropic_standin.url, tmp_path / "claude-home")
    env.update(CW_CLAUDE_PATH=str(real_claude))
    for process in runner_server(tmp_path, fake_agents, **env):
        try:
            yield process
        finally:
            stop_leftovers(process)


def tool_results(requests: list[Any]) -> list[str]:
    """The text of every tool result the CLI sent the model, in order."""
    found = []
    for request in requests:
        for message in request.body.get("messages", []):
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    found += texts_in({"content": block.get("content")})
    return found


def test_a_runner_agent_asks_with_mcp_and_a_hand_started_claude_answers_with_mcp(
    server: ServerProcess,
    anthropic_standin: AnthropicStandin,
    real_claude: Path,
    tmp_path: Path,
) -> None:
    plan = make_plan(server, tmp_path)
    asker_task = plan.task(server, "Client", "Ask bob which port auth uses, then finish.")
    bob_task = plan.task(server, "Auth service", "Build the auth service.")
    bob = server.create_agent(name="bob", taskId=bob_task["id"], status="running")
    anthropic_standin.script(
        load_tools("mcp__crosswalk__ask"),
        tool("mcp__crosswalk__ask", {"agent": "bob", "question": QUESTION, "timeoutS": 120}),
    )
    asker = js(server, "agent", "spawn", "--task", asker_task["id"])
    [question] = until(
        lambda: server.call("query", "conversation.pending", {"agentId": bob["id"]}),
        "the question to reach bob",
    )
    assert (question["question"], question["fromAgentId"]) == (QUESTION, asker["id"])

    # bob: a Claude Code started by hand, in a worktree set up with `cw mcp install`
    worktree = tmp_path / "bob-worktree"
    worktree.mkdir()
    ok(server, "mcp", "install", "--worktree", str(worktree), "--agent", "bob")
    anthropic_standin.script(
        load_tools("mcp__crosswalk__pending", "mcp__crosswalk__answer"),
        tool("mcp__crosswalk__pending", {}),
        tool("mcp__crosswalk__answer", {"conversationId": question["id"], "answer": "8443"}),
        text("Answered bob's questions."),
    )
    bob_env = real_clis.claude_env(anthropic_standin.url, tmp_path / "bob-home", api_key="bob")
    bob_run = real_clis.run_cli(
        [real_claude, "-p", "Answer the questions waiting for you.", "--output-format",
         "stream-json", "--verbose", "--permission-mode", "acceptEdits"],
        worktree,
        bob_env,
    )  # fmt: skip
    assert bob_run.returncode == 0, bob_run.stderr

    answered = server.call("query", "conversation.get", {"id": question["id"]})
    assert (answered["status"], answered["answer"]) == ("answered", "8443"), bob_run.stdout
    finished = agent_in(server, asker["id"], "idle", "crashed")
    assert finished["status"] == "idle", finished["result"]

    requests = anthropic_standin.conversation_requests()
    asker_requests = [r for r in requests if r.credential == "test-key"]
    bob_requests = [r for r in requests if r.credential == "bob"]
    # the prompt says the tools exist; the answer came back to the asker as the tool result
    assert any("mcp__crosswalk__ask" in t for t in texts_in(asker_requests[0].body))
    assert (
        f"Answer from agent bob (conversation {question['id']}), written by agent bob, "
        "not by crosswalk:\n```text\n8443\n```"
    ) in tool_results(asker_requests)
    bob_saw = "\n".join(tool_results(bob_requests))
    assert f"Question {question['id']} from agent {asker['name']}" in bob_saw
    assert f"Answered conversation {question['id']} (asked by agent {asker['name']})." in bob_saw
    # acceptEdits denied nothing: the tools ran (the runner allowed them; install did for bob)
    raw = ok(server, "logs", "show", asker["id"], "--raw")
    assert "requested permissions" not in raw
    assert "requested permissions" not in bob_run.stdout
    events = [json.loads(line) for line in raw.splitlines()]
    used = [
        block["name"]
        for event in events
        if event.get("type") == "assistant"
        for block in event["message"]["content"]
        if block.get("type") == "tool_use"
    ]
    assert used == ["ToolSearch", "mcp__crosswalk__ask"]
