"""The runner drives the real Claude Code CLI (pinned in tests/agents, from npm) against a
stand-in model API: the model asks for a Bash command, the real CLI runs it in the
agent's worktree, and the agent ends idle with the session the CLI reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agents import real_clis
from tests.agents.kit import FakeAgents
from tests.agents.standin_anthropic import AnthropicStandin, answer_asked, bash, text, texts_in
from tests.e2e.runner_kit import (
    agent_in,
    js,
    make_origin,
    make_plan,
    ok,
    runner_server,
    stop_leftovers,
    until,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def claude_server(
    tmp_path: Path, fake_agents: FakeAgents, claude: Path, standin: AnthropicStandin,
    api_key: str | None,
) -> Iterator[ServerProcess]:  # fmt: skip
    """A server that runs the real CLI against the stand-in; without ``api_key`` the
    agents log in with their account's OAuth credentials."""
    env = real_clis.claude_env(standin.url, tmp_path / "claude-home", api_key=api_key)
    env.update(CW_CLAUDE_PATH=str(claude), CW_CLAUDE_PERMISSION_MODE="bypassPermissions")
    for process in runner_server(tmp_path, fake_agents, **env):
        try:
            yield process
        finally:
            stop_leftovers(process)


@pytest.fixture
def server(
    tmp_path: Path,
    fake_agents: FakeAgents,
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
) -> Iterator[ServerProcess]:
    yield from claude_server(tmp_path, fake_agents, real_claude, anthropic_standin, "test-key")


@pytest.fixture
def oauth_server(
    tmp_path: Path,
    fake_agents: FakeAgents,
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
) -> Iterator[ServerProcess]:
    yield from claude_server(tmp_path, fake_agents, real_claude, anthropic_standin, None)


def test_the_real_claude_runs_a_bash_tool_in_the_worktree(
    server: ServerProcess, anthropic_standin: AnthropicStandin, tmp_path: Path
) -> None:
    anthropic_standin.script(bash("echo made by claude > made.txt"), text("All done."))
    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Make a file", "Create made.txt in the worktree.")

    spawned = js(server, "agent", "spawn", "--task", task["id"])
    agent = agent_in(server, spawned["id"], "idle", "crashed")

    assert agent["status"] == "idle", agent["result"]
    assert (Path(agent["worktreeId"]) / "made.txt").read_text() == "made by claude\n"
    assert agent["result"]["result"] == "All done."
    assert agent["exitCode"] == 0
    raw = ok(server, "logs", "show", agent["id"], "--raw")
    events = [json.loads(line) for line in raw.splitlines()]
    [init] = [e for e in events if e.get("type") == "system" and e.get("subtype") == "init"]
    assert agent["sessionId"] == init["session_id"]
    assert init["cwd"] == agent["worktreeId"]
    readable = ok(server, "logs", "show", agent["id"])
    assert "tool Bash: echo made by claude > made.txt" in readable
    # The task, verbatim, reached the model.
    first = anthropic_standin.conversation_requests()[0]
    assert any("Create made.txt in the worktree." in t for t in texts_in(first.body))


def test_the_real_claude_moves_to_the_next_account_on_a_subscription_limit(
    oauth_server: ServerProcess, anthropic_standin: AnthropicStandin, tmp_path: Path
) -> None:
    """Two subscription logins; the first is out of its 5-hour limit. The real CLI says
    so, the runner marks that account exhausted until the reset the API gave, carries
    the session's transcript to the second login's config dir, and the real CLI resumes
    it there (it would fail with "No conversation found" otherwise)."""
    server = oauth_server
    resets_at = anthropic_standin.hit_subscription_limit("token-one", 1_900_000_000)
    anthropic_standin.script(bash("echo resumed > after-limit.txt"), text("Finished."))
    logins = []
    for token in ("token-one", "token-two"):
        credentials = tmp_path / f"{token}.json"
        real_clis.write_oauth_credentials(tmp_path, token)
        (tmp_path / ".credentials.json").rename(credentials)
        logins.append(
            js(
                server,
                "account",
                "create",
                f"{token}@example.com",
                "--credentials-file",
                str(credentials),
            )
        )
    plan = make_plan(server, tmp_path)
    task = plan.task(server, "Limited", "Write after-limit.txt.")
    spawned = js(server, "agent", "spawn", "--task", task["id"], "--account", logins[0]["id"])

    agent = agent_in(server, spawned["id"], "idle", "crashed")
    assert agent["status"] == "idle", agent["result"]
    assert agent["accountId"] == logins[1]["id"]
    assert (Path(agent["worktreeId"]) / "after-limit.txt").read_text() == "resumed\n"
    exhausted = js(server, "account", "show", logins[0]["id"])
    assert exhausted["isExhausted"] is True
    assert exhausted["exhaustedUntil"] == "2030-03-17T17:46:40.000Z"
    assert resets_at == 1_900_000_000
    credentials_sent = [r.credential for r in anthropic_standin.conversation_requests()]
    assert credentials_sent[0] == "token-one"
    assert credentials_sent[-1] == "token-two"
    assert "has logged 2 session(s)" in ok(server, "logs", "sessions", agent["id"])
    session_one = "".join(
        c["content"] for c in js(server, "logs", "show", agent["id"], "--session", "1")
    )
    assert '"rate_limit_event"' in session_one


def test_the_real_claude_is_resumed_in_its_session_to_answer_a_dependent_tasks_question(
    server: ServerProcess, anthropic_standin: AnthropicStandin, tmp_path: Path
) -> None:
    """A then B (B depends on A), dispatched. A's agent finishes and is idle; B's agent
    asks `cw ask --task A`; the runner resumes A's own session (`claude --resume`) with
    the question, the model answers with the `cw answer` command it was given, and B's
    `cw ask` prints that answer."""
    init = js(server, "initiative", "create", "Auth rewrite", "--no-merge-requires-approval")
    origin = make_origin(tmp_path / "origin")
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", init["id"], project["id"])
    a = js(server, "task", "create", "--initiative", init["id"], "Token service")
    b = js(server, "task", "create", "--initiative", init["id"], "Client")
    ok(server, "task", "dep", "add", b["id"], a["id"])
    question = "which port does the token service use?"
    anthropic_standin.script(
        bash("echo PORT=8443 > tokens.py"),  # A works
        text("Built the token service."),
        bash(f"cw ask --task {a['id']} --timeout 90 '{question}' > answer.txt"),  # B asks
        answer_asked("8443, set in tokens.py"),  # A, resumed, answers
        text("Answered."),
        text("Done."),  # B, with its answer
    )
    ok(server, "initiative", "run", init["id"])
    until(
        lambda: js(server, "initiative", "status", init["id"])["dispatch"]["status"] == "off",
        "the initiative to finish",
        timeout=180,
    )

    [b_agent] = js(server, "agent", "list", "--task", b["id"])["items"]
    assert (Path(b_agent["worktreeId"]) / "answer.txt").read_text() == "8443, set in tokens.py\n"
    [a_agent] = js(server, "agent", "list", "--task", a["id"])["items"]
    a_agent = agent_in(server, a_agent["id"], "idle")
    assert a_agent["lastAnsweringRun"]["outcome"] == "answered"
    assert js(server, "task", "show", a["id"])["status"] == "completed"
    inits = []
    for session in (1, 2):
        raw = "".join(
            c["content"]
            for c in js(server, "logs", "show", a_agent["id"], "--session", str(session))
        )
        events = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
        inits += [e for e in events if e.get("type") == "system" and e.get("subtype") == "init"]
    assert inits[0]["session_id"] == inits[1]["session_id"]  # its own session, resumed
    assert inits[1]["cwd"] == a_agent["worktreeId"]
    asked = [r for r in anthropic_standin.conversation_requests() if question in str(r.body)]
    assert any("cw answer" in t and "YOUR ANSWER" in t for r in asked for t in texts_in(r.body))
