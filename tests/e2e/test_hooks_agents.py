"""Questions reach a busy agent through its hooks, end to end: the real server, real ``cw``
processes, the hooks installed by ``cw hooks install``, and an agent CLI that runs them:
the fake ``claude`` of tests/agents (which runs hook commands as Claude Code does) and,
once, the real Claude Code against the stand-in model API."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tests.agents import real_clis
from tests.agents.kit import FAKE_CLAUDE, FAKE_CODEX, FakeAgents
from tests.agents.standin_anthropic import AnthropicStandin, bash, text, texts_in
from tests.support.server import CW, ServerProcess

pytestmark = pytest.mark.slow

STREAM = ["--output-format", "stream-json", "--verbose"]
BYPASS = ["--permission-mode", "bypassPermissions"]


def wait_until(check: Any, what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def agents(server: ServerProcess) -> tuple[dict[str, Any], dict[str, Any]]:
    for name in ("Token service", "Cache"):
        server.call("mutation", "task.create", {"name": name})
    tasks = server.call("query", "task.list")["items"]
    by_name = {task["name"]: task["id"] for task in tasks}
    alice = server.create_agent(name="alice", taskId=by_name["Token service"])
    bob = server.create_agent(name="bob", taskId=by_name["Cache"])
    return alice, bob


@pytest.fixture
def worktree(server: ServerProcess, tmp_path: Path) -> Path:
    """bob's worktree: a git repository with the cw hooks installed by the real command."""
    path = tmp_path / "wt-bob"
    subprocess.run(["git", "init", "-q", str(path)], check=True, timeout=30)
    installed = server.cw("hooks", "install", "--worktree", str(path))
    assert installed.returncode == 0, installed.stderr
    return path


def agent_env(server: ServerProcess, agent: dict[str, Any], base: dict[str, str]) -> dict[str, str]:
    """What crosswalk gives an agent process: CW_URL, CW_AGENT_ID, CW_TOKEN; cw on PATH."""
    env = {k: v for k, v in base.items() if k != "CLAUDE_PROJECT_DIR"}
    env.update(CW_URL=server.url, CW_AGENT_ID=agent["id"], CW_TOKEN=agent["token"])
    env["PATH"] = f"{Path(CW).parent}{os.pathsep}{env.get('PATH', '')}"
    if os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"
    return env


def start_fake_claude(
    fake_agents: FakeAgents, server: ServerProcess, agent: dict[str, Any], worktree: Path, key: str
) -> subprocess.Popen[str]:
    env = agent_env(server, agent, fake_agents.env(server.env()))
    process = subprocess.Popen(
        [str(FAKE_CLAUDE), "-p", f"Work on your task.\n{key}", *STREAM, *BYPASS],
        cwd=worktree,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server.spawned.append(process)  # stopped by the server fixture if the test fails
    return process


def status(server: ServerProcess, agent: dict[str, Any]) -> str:
    return str(server.call("query", "agent.get", {"id": agent["id"]})["status"])


def pending(server: ServerProcess, agent: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.call(
        "query", "conversation.pending", {"agentId": agent["id"]}
    )
    return found


def test_a_question_reaches_a_busy_agent_after_its_next_tool_call_and_is_answered(
    server: ServerProcess,
    agents: tuple[dict[str, Any], dict[str, Any]],
    worktree: Path,
    fake_agents: FakeAgents,
) -> None:
    alice, bob = agents
    key = fake_agents.script(
        "busy",
        [
            {"kind": "bash", "command": "echo step one"},
            {"kind": "wait_for_file", "path": "go", "timeout": 60},
            {"kind": "bash", "command": "echo step two"},
            {"kind": "bash", "command": "echo step three"},
            {"kind": "answer_seen_questions", "text": "8443, see services/auth/config.toml"},
            {"kind": "result", "text": "done"},
        ],
    )
    claude = start_fake_claude(fake_agents, server, bob, worktree, key)
    wait_until(lambda: status(server, bob) == "running", "bob's first tool call")

    asking = server.spawn_cw(
        "ask", "--agent", "bob", "--timeout", "60", "which port does auth use?", agent=alice
    )
    [question] = wait_until(lambda: pending(server, bob), "the question to reach the server")
    (worktree / "go").touch()  # bob goes on with its next tool calls

    out, err = asking.communicate(timeout=60)
    assert (asking.returncode, out.strip()) == (0, "8443, see services/auth/config.toml"), err
    assert claude.wait(timeout=60) == 0, claude.stderr.read() if claude.stderr else ""
    seen = fake_agents.seen()
    assert seen[0]["event"] == "SessionStart" and "you are agent bob" in seen[0]["text"]
    delivered = [s for s in seen if question["id"] in s["text"]]
    assert [s["event"] for s in delivered] == ["PostToolUse"]  # once, at the next tool call
    assert "which port does auth use?" in delivered[0]["text"]
    assert "from agent alice" in delivered[0]["text"] and "Token service" in delivered[0]["text"]
    answered = server.call("query", "conversation.get", {"id": question["id"]})
    assert (answered["status"], answered["answer"]) == (
        "answered",
        "8443, see services/auth/config.toml",
    )
    assert status(server, bob) == "idle"  # it stopped with nothing pending


def test_a_stop_is_blocked_while_a_question_waits_and_allowed_once_it_is_answered(
    server: ServerProcess,
    agents: tuple[dict[str, Any], dict[str, Any]],
    worktree: Path,
    fake_agents: FakeAgents,
) -> None:
    alice, bob = agents
    key = fake_agents.script(
        "about-to-stop",
        [
            {"kind": "wait_for_file", "path": "go", "timeout": 60},
            {"kind": "text", "text": "My part is finished."},
            {"kind": "result", "text": "finished"},
        ],
        on_stop_block=[{"kind": "answer_seen_questions", "text": "yes, merged"}],
    )
    claude = start_fake_claude(fake_agents, server, bob, worktree, key)
    wait_until(lambda: fake_agents.seen(), "bob's session to start")
    asked = server.call(
        "mutation",
        "conversation.ask",
        {"fromAgentId": alice["id"], "toAgentId": "bob", "question": "is the schema merged?"},
        token=alice["token"],
    )
    (worktree / "go").touch()  # bob now tries to stop, with a question waiting

    out, _ = claude.communicate(timeout=60)

    assert claude.returncode == 0
    feedback = [line for line in out.splitlines() if "Stop hook feedback" in line]
    assert len(feedback) == 1 and asked["id"] in feedback[0]  # blocked once, then allowed
    answered = server.call("query", "conversation.get", {"id": asked["id"]})
    assert (answered["status"], answered["answer"]) == ("answered", "yes, merged")
    assert status(server, bob) == "idle"
    log = (worktree / ".crosswalk" / "hook.log").read_text()
    assert "claude Stop session" in log and asked["id"] in log


def test_with_the_server_down_the_agent_works_on_and_sees_nothing(
    server: ServerProcess,
    agents: tuple[dict[str, Any], dict[str, Any]],
    worktree: Path,
    fake_agents: FakeAgents,
) -> None:
    _, bob = agents
    key = fake_agents.script(
        "alone",
        [
            {"kind": "bash", "command": "echo one"},
            {"kind": "bash", "command": "echo two"},
            {"kind": "result", "text": "done alone"},
        ],
    )
    server.stop()
    claude = start_fake_claude(fake_agents, server, bob, worktree, key)
    out, err = claude.communicate(timeout=60)

    assert claude.returncode == 0, err
    assert '"result": "done alone"' in out or '"result":"done alone"' in out
    assert fake_agents.seen() == []  # no context at all, and no error shown to the model
    lines = (worktree / ".crosswalk" / "hook.log").read_text().splitlines()
    events = [line.split(" ")[2] for line in lines]
    assert events == ["SessionStart", "UserPromptSubmit", "PostToolUse", "PostToolUse", "Stop"]
    assert all("skipped: connection refused" in line for line in lines)


def test_the_real_claude_reads_a_question_from_post_tool_use_context(
    server: ServerProcess,
    agents: tuple[dict[str, Any], dict[str, Any]],
    worktree: Path,
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
    tmp_path: Path,
) -> None:
    alice, bob = agents
    # The model's one tool call makes alice ask bob (so the question arrives after the
    # session started); the PostToolUse hook after it must bring the question to the model.
    ask = (
        f"CW_AGENT_ID={alice['id']} CW_TOKEN={alice['token']} "
        f"{CW} ask --agent bob --no-wait 'which port does auth use?'"
    )
    anthropic_standin.script(bash(ask), text("Noted."))
    env = agent_env(server, bob, real_clis.claude_env(anthropic_standin.url, tmp_path / "home"))

    run = real_clis.run_cli([real_claude, "-p", "work", *STREAM, *BYPASS], worktree, env)

    assert run.returncode == 0, run.stderr
    [question] = pending(server, bob)
    requests = anthropic_standin.conversation_requests()
    first = "\n".join(texts_in(requests[0].body))
    assert "you are agent bob" in first and question["id"] not in first
    after_tool = "\n".join(texts_in(requests[-1].body))
    assert "PostToolUse:Bash hook additional context:" in after_tool
    assert f"Question {question['id']} from agent alice" in after_tool
    assert "which port does auth use?" in after_tool
    assert (
        f"cw answer {question['id']}" in after_tool
        or f"cw answer -- {question['id']}" in after_tool
    )


def test_codex_gets_the_question_after_a_tool_call_and_is_kept_from_stopping(
    server: ServerProcess,
    agents: tuple[dict[str, Any], dict[str, Any]],
    fake_agents: FakeAgents,
    tmp_path: Path,
) -> None:
    alice, bob = agents
    worktree = tmp_path / "wt-codex"
    subprocess.run(["git", "init", "-q", str(worktree)], check=True, timeout=30)
    installed = server.cw("hooks", "install", "--worktree", str(worktree), "--provider", "codex")
    assert installed.returncode == 0, installed.stderr
    key = fake_agents.script(
        "codex-busy",
        [
            {"kind": "wait_for_file", "path": "go", "timeout": 60},
            {"kind": "bash", "command": "echo working"},
            {"kind": "result", "text": "done"},
        ],
        on_stop_block=[{"kind": "answer_seen_questions", "text": "from codex"}],
    )
    env = agent_env(server, bob, fake_agents.env(server.env()))
    env["CODEX_HOME"] = str(tmp_path / "codex-home")
    trust = ["--trust", "--dangerously-bypass-hook-trust"]
    codex = subprocess.Popen(
        [str(FAKE_CODEX), "exec", "--json", "--sandbox", "workspace-write", *trust, key],
        cwd=worktree,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server.spawned.append(codex)
    wait_until(fake_agents.seen, "the session start context")
    asked = server.call(
        "mutation",
        "conversation.ask",
        {"fromAgentId": alice["id"], "toAgentId": "bob", "question": "codex, which branch?"},
        token=alice["token"],
    )
    (worktree / "go").touch()

    _, err = codex.communicate(timeout=60)

    assert codex.returncode == 0, err
    delivered = [s for s in fake_agents.seen() if asked["id"] in s["text"]]
    assert [s["event"] for s in delivered][:2] == ["PostToolUse", "Stop"]
    answered = server.call("query", "conversation.get", {"id": asked["id"]})
    assert (answered["status"], answered["answer"]) == ("answered", "from codex")
