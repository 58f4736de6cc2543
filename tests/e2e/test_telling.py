"""The person tells an agent something with `cw tell`: a real server running the fake
`claude` (real subprocesses that run their hooks as Claude Code does) in real git
worktrees, agents registered by hand reached through the real `cw hook`, and everything
driven and checked through the real `cw`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.agents import real_clis
from tests.agents.kit import FakeAgents
from tests.agents.standin_anthropic import AnthropicStandin, bash, text, texts_in
from tests.e2e.runner_kit import (
    Plan,
    agent_in,
    claude_hook,
    js,
    ok,
    refused,
    until,
)
from tests.support.server import CW, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.runner]  # `server` runs the fake agents (conftest.py)


def told_to(server: ServerProcess, agent: str) -> list[dict[str, Any]]:
    """What the person told the agent, oldest first, as `cw message list` shows it."""
    found = js(server, "message", "list", "--to", agent, "--from-user")["items"]
    return [m for m in found if m["parentMessageId"] is None]


def register(server: ServerProcess, name: str, worktree: Path) -> dict[str, str]:
    subprocess.run(["git", "init", "-q", str(worktree)], check=True, timeout=30)
    done = server.cw("agent", "register", "--name", name, "--worktree", str(worktree))
    assert done.returncode == 0, done.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    return {"id": exports["CW_AGENT_ID"], "token": exports["CW_TOKEN"], "name": name}


def hook(server: ServerProcess, agent: dict[str, str], worktree: Path, event: str) -> Any:
    """The hook's JSON output, or None when it prints nothing."""
    out = claude_hook(server, agent, worktree, event)
    return json.loads(out) if out.strip() else None


def test_a_running_agent_reads_what_the_person_says_after_its_next_tool_call(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "busy",
        [
            # no tool call before: once its prompt's hooks have run, it waits for "go"
            {"kind": "wait_for_file", "path": "go", "timeout": 60, "announce": "waiting"},
            {"kind": "bash", "command": "echo step two"},
            {"kind": "bash", "command": "echo step three"},
            {"kind": "result", "text": "done"},
        ],
    )
    task = plan.task(server, "Serve", key)
    agent = js(server, "agent", "spawn", "--task", task["id"])
    waiting = Path(agent["worktreeId"]) / "waiting"
    until(waiting.exists, "the agent to be past its session's first hooks")

    said = ok(server, "tell", agent["name"], "Use port 8080, not 80.")
    assert said.startswith(f"agent {agent['name']} is running: it reads your message")
    [message] = told_to(server, agent["name"])
    assert (message["content"], message["status"]) == ("Use port 8080, not 80.", "pending")
    (Path(agent["worktreeId"]) / "go").touch()

    done = agent_in(server, agent["id"], "idle", "crashed")
    assert done["status"] == "idle", done
    delivered = [s for s in fake_agents.seen() if "Use port 8080, not 80." in s["text"]]
    assert [s["event"] for s in delivered] == ["PostToolUse"]  # once, at the next tool call
    assert "from the person coordinating the work" in delivered[0]["text"]
    assert told_to(server, agent["name"])[0]["status"] == "read"
    assert len(fake_agents.calls("claude")) == 1  # nothing was resumed


def test_what_is_said_as_the_agent_finishes_keeps_it_from_stopping_once(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "finishing",
        [
            {"kind": "wait_for_file", "path": "go", "timeout": 60, "announce": "waiting"},
            {"kind": "result", "text": "done"},
        ],
        on_stop_block=[{"kind": "bash", "command": "echo noted >> noted.txt"}],
    )
    task = plan.task(server, "Finish", key)
    agent = js(server, "agent", "spawn", "--task", task["id"])
    waiting = Path(agent["worktreeId"]) / "waiting"
    until(waiting.exists, "the agent to be past its session's first hooks")
    ok(server, "tell", agent["name"], "Add a changelog entry before you stop.")
    (Path(agent["worktreeId"]) / "go").touch()

    agent_in(server, agent["id"], "idle")
    [blocked] = [s for s in fake_agents.seen() if s["event"] == "Stop"]
    assert "Add a changelog entry before you stop." in blocked["text"]
    assert (Path(agent["worktreeId"]) / "noted.txt").read_text() == "noted\n"  # once


def test_an_agent_whose_run_ended_is_resumed_with_what_the_person_says(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    """A crash blocks the task and asks the person; telling the agent resumes it with the
    words as the prompt, and the question closes itself as the task moves on."""
    key = fake_agents.script(
        "default",  # a resume's prompt names no script: the fake runs "default" again
        [{"kind": "text", "text": "oh no"}, {"kind": "exit", "code": 3}],
        [{"kind": "write", "path": "fixed.txt", "content": "ok\n"}, {"kind": "result"}],
    )
    task = plan.task(server, "Fragile", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    crashed = agent_in(server, spawned["id"], "crashed")
    [question] = js(server, "inbox")
    assert question["taskId"] == task["id"] and "crashed" in question["content"]

    said = ok(server, "tell", crashed["name"], "The flaky test is known; skip it.")

    assert said.startswith(f"resumed agent {crashed['name']} in its session")
    [message] = told_to(server, crashed["name"])
    assert message["status"] == "read"  # handed over as the prompt: no hook repeats it
    done = agent_in(server, crashed["id"], "idle", "crashed")
    assert done["status"] == "idle", done
    _first, second = fake_agents.calls("claude")
    argv = second["argv"]
    assert argv[argv.index("-p") + 1] == "The flaky test is known; skip it."
    assert argv[argv.index("--resume") + 1] == crashed["sessionId"]
    assert (Path(done["worktreeId"]) / "fixed.txt").read_text() == "ok\n"
    assert js(server, "inbox") == []  # resumed: the crash question closed itself
    thread = js(server, "message", "thread", question["id"])
    assert thread["replies"][0]["content"] == (
        f"Closed by crosswalk: task 'Fragile' ({task['id']}) is now in_progress."
    )
    assert not [s for s in fake_agents.seen() if "skip it" in s["text"]]


def test_an_agent_registered_by_hand_gets_it_at_its_next_hook_and_the_cli_says_so(
    server: ServerProcess, tmp_path: Path
) -> None:
    worktree = tmp_path / "wt-bob"
    bob = register(server, "bob", worktree)

    said = ok(server, "tell", "bob", "Rebase on main first.")
    assert said.startswith("agent bob is idle and not run by crosswalk, so it cannot be resumed")
    assert "handed to it at its next hook" in said
    assert (
        hook(server, bob, worktree, "PostToolUse")["hookSpecificOutput"]["additionalContext"].count(
            "Rebase on main first."
        )
        == 1
    )
    assert hook(server, bob, worktree, "PostToolUse") is None  # handed over once

    ok(server, "agent", "update", "bob", "--status", "running")
    said = ok(server, "tell", "bob", "Then run the whole suite.")
    assert said.startswith("agent bob is running: it reads your message at its next hook")
    stop = hook(server, bob, worktree, "Stop")
    assert stop["decision"] == "block" and "Then run the whole suite." in stop["reason"]
    assert hook(server, bob, worktree, "Stop") is None
    assert [m["status"] for m in told_to(server, "bob")] == ["read", "read"]


def test_a_reply_nobody_waits_for_is_handed_over_once_by_the_next_hook(
    server: ServerProcess, tmp_path: Path
) -> None:
    worktree = tmp_path / "wt-bob"
    bob = register(server, "bob", worktree)
    as_bob = {"CW_AGENT_ID": bob["id"], "CW_TOKEN": bob["token"]}
    asked = server.cw("ask", "--user", "--no-wait", "--json", "Which port?", env=as_bob)
    assert asked.returncode == 0, asked.stderr
    question = json.loads(asked.stdout)

    ok(server, "reply", question["id"], "Use 8080.")

    context = hook(server, bob, worktree, "PostToolUse")["hookSpecificOutput"]
    text = context["additionalContext"]
    assert f"to your question {question['id']}" in text and text.count("Use 8080.") == 1
    assert hook(server, bob, worktree, "PostToolUse") is None  # handed over once


def test_a_reply_the_agent_waited_for_is_not_handed_over_again(
    server: ServerProcess, tmp_path: Path
) -> None:
    worktree = tmp_path / "wt-bob"
    bob = register(server, "bob", worktree)
    env = server.env(CW_AGENT_ID=bob["id"], CW_TOKEN=bob["token"])
    with subprocess.Popen(
        [CW, "ask", "--user", "--timeout", "60", "Which port?"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as waiting:
        [question] = until(lambda: js(server, "inbox"), "the question to reach the inbox")
        ok(server, "reply", question["id"], "Use 8080.")
        out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert "Use 8080." in out
    assert hook(server, bob, worktree, "PostToolUse") is None


def test_an_agent_whose_run_ended_is_resumed_with_the_reply_to_its_question(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "default",  # a resume's prompt names no script: the fake runs "default" again
        [
            {"kind": "bash", "command": 'cw ask --user --no-wait "Keep the old API?"'},
            {"kind": "result", "text": "asked"},
        ],
        [{"kind": "write", "path": "decided.txt", "content": "ok\n"}, {"kind": "result"}],
    )
    task = plan.task(server, "Migrate", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    agent_in(server, spawned["id"], "idle")
    [question] = js(server, "inbox")
    assert question["content"] == "Keep the old API?"

    replied = js(server, "reply", question["id"], "No, drop it.")

    assert replied["reply"]["status"] == "read"  # handed over as the prompt
    done = agent_in(server, spawned["id"], "idle", "crashed")
    assert done["status"] == "idle", done
    _first, second = fake_agents.calls("claude")
    prompt = second["argv"][second["argv"].index("-p") + 1]
    assert f"replied to your question {question['id']}" in prompt
    assert "Keep the old API?" in prompt and "No, drop it." in prompt
    assert (Path(done["worktreeId"]) / "decided.txt").read_text() == "ok\n"
    assert not [s for s in fake_agents.seen() if "No, drop it." in s["text"]]


def test_only_the_person_tells_and_mistakes_are_explained(
    server: ServerProcess, tmp_path: Path
) -> None:
    bob = register(server, "bob", tmp_path / "wt-bob")
    alice = register(server, "alice", tmp_path / "wt-alice")

    for as_agent in (alice, bob):  # another agent, and the agent itself
        done = server.cw("tell", "bob", "I am the person now.", agent=as_agent)
        assert done.returncode == 1, done.stdout
        assert "only the administrator may tell agents something as the person" in done.stderr
    assert told_to(server, "bob") == []
    assert "agent 'nobody' not found" in refused(server, "tell", "nobody", "hello")
    empty = server.cw("tell", "bob", "   ")
    assert empty.returncode == 2 and "the message is empty" in empty.stderr
    piped = server.cw("tell", "bob", "-", "--json", input="From stdin,\nover two lines.")
    assert piped.returncode == 0, piped.stderr
    told = json.loads(piped.stdout)
    assert told["delivery"] == "next_session" and told["agent"]["name"] == "bob"
    assert told["message"]["content"] == "From stdin,\nover two lines."


def test_the_real_claude_reads_what_the_person_says_after_its_tool_call(
    server: ServerProcess, tmp_path: Path, real_claude: Path, anthropic_standin: AnthropicStandin
) -> None:
    """Claude Code 2.1.332 against the stand-in model: the person's words, sent while the
    model's one tool call runs, reach the model in the PostToolUse hook's context."""
    worktree = tmp_path / "wt-bob"
    bob = register(server, "bob", worktree)
    assert server.cw("hooks", "install", "--worktree", str(worktree)).returncode == 0
    ok(server, "agent", "update", "bob", "--status", "running")
    tell = f"CW_TOKEN={server.admin_token} {CW} tell bob 'Use port 8080, not 80.'"
    anthropic_standin.script(bash(tell), text("Noted: port 8080."))
    env = real_clis.claude_env(anthropic_standin.url, tmp_path / "home")
    env.update(CW_URL=server.url, CW_AGENT_ID=bob["id"], CW_TOKEN=bob["token"])
    env["PATH"] = f"{Path(CW).parent}{os.pathsep}{env.get('PATH', '')}"
    if os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"

    run = real_clis.run_cli(
        [real_claude, "-p", "work", "--output-format", "stream-json", "--verbose",
         "--permission-mode", "bypassPermissions"],
        worktree,
        env,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    requests = anthropic_standin.conversation_requests()
    assert "Use port 8080" not in "\n".join(texts_in(requests[0].body))
    after_tool = "\n".join(texts_in(requests[-1].body))
    assert "PostToolUse:Bash hook additional context:" in after_tool
    assert "from the person coordinating the work" in after_tool
    assert "Use port 8080, not 80." in after_tool
    assert [m["status"] for m in told_to(server, "bob")] == ["read"]
