"""The real Claude Code (pinned, against the stand-in) and the fake print the same shapes.

Each scenario runs through the real CLI first, then the same script through the fake, and
compares what a reader of the stream relies on. A failure here means the fake drifted from
the pinned CLI (or the pin moved): fix the fake, not the test.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.agents import real_clis
from tests.agents.fake_claude import transcript_path
from tests.agents.kit import FAKE_CLAUDE, FakeAgents
from tests.agents.real_clis import Run
from tests.agents.standin_anthropic import AnthropicStandin, bash, text, texts_in

pytestmark = pytest.mark.slow  # each test starts the real CLI a few times

STREAM = ["--output-format", "stream-json", "--verbose"]
BYPASS = ["--permission-mode", "bypassPermissions"]
QUESTION = 'QUESTION-42 is waiting: cw answer c-42 "..."'


def shape(value: Any) -> Any:
    """Keys and value types, recursively for objects: what a reader of the line relies on."""
    if isinstance(value, dict):
        return {key: type(item).__name__ for key, item in value.items()}
    return type(value).__name__


def one(run: Run, kind: str, subtype: str | None = None) -> dict[str, Any]:
    lines = [line for line in run.of_type(kind) if subtype is None or line["subtype"] == subtype]
    assert len(lines) == 1, (kind, subtype, run.stdout, run.stderr)
    return lines[0]


def blocks(run: Run, kind: str) -> list[dict[str, Any]]:
    return [b for line in run.of_type(kind) for b in line["message"]["content"]]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "work_tree.1"
    path.mkdir()
    return path


def real(claude: Path, worktree: Path, env: dict[str, str], *args: str) -> Run:
    return real_clis.run_cli([claude, "-p", *args, *STREAM, *BYPASS], worktree, env)


def fake(fake_agents: FakeAgents, worktree: Path, home: Path, *args: str, **env: str) -> Run:
    base = fake_agents.env(real_clis.base_env(home))
    base.update(IS_SANDBOX="1", **env)
    return real_clis.run_cli([FAKE_CLAUDE, "-p", *args, *STREAM, *BYPASS], worktree, base)


def test_a_bash_turn_prints_the_same_lines_from_real_and_fake(
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    anthropic_standin.script(bash("echo made > made.txt; echo printed"), text("All done."))
    env = real_clis.claude_env(anthropic_standin.url, tmp_path / "real-home")
    real_run = real(real_claude, worktree, env, "make a file")

    assert real_run.returncode == 0, real_run.stderr
    assert (worktree / "made.txt").read_text() == "made\n"
    assert [line["type"] for line in real_run.lines] == [
        "system",
        "assistant",
        "user",
        "assistant",
        "result",
    ]
    (tool_result,) = blocks(real_run, "user")
    assert tool_result["content"] == "printed"
    sent = texts_in(anthropic_standin.conversation_requests()[-1].body)
    assert "printed" in sent, "the tool result reaches the next request"

    key = fake_agents.script(
        "same",
        [
            {"kind": "bash", "command": "echo made > made.txt; echo printed"},
            {"kind": "text", "text": "All done."},
        ],
    )
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", f"make a file\n{key}")

    assert fake_run.returncode == 0, fake_run.stderr
    assert [line["type"] for line in fake_run.lines] == [line["type"] for line in real_run.lines]
    for kind, subtype in (("system", "init"), ("result", "success")):
        assert shape(one(fake_run, kind, subtype)) == shape(one(real_run, kind, subtype))
    for kind in ("assistant", "user"):
        assert [shape(line) for line in fake_run.of_type(kind)] == [
            shape(line) for line in real_run.of_type(kind)
        ]
        assert [shape(b) for b in blocks(fake_run, kind)] == [
            shape(b) for b in blocks(real_run, kind)
        ]
    assert blocks(fake_run, "user")[0]["content"] == "printed"
    for name in ("subtype", "is_error", "result", "num_turns", "api_error_status"):
        assert one(fake_run, "result")[name] == one(real_run, "result")[name], name


def hook_settings(worktree: Path, record: Path, stop_flag: Path) -> None:
    context = {
        "hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": QUESTION}
    }
    block = {"decision": "block", "reason": "answer c-42 first"}

    def recorder(then: str) -> dict[str, Any]:
        return {"type": "command", "command": f"cat >> {record}; echo >> {record}; {then}"}

    hooks = {
        "SessionStart": [{"hooks": [recorder("echo agent A starts")]}],
        "PostToolUse": [
            {"matcher": "Bash", "hooks": [recorder(f"echo '{json.dumps(context)}'")]},
            {"matcher": "Write", "hooks": [recorder("echo never")]},
        ],
        "Stop": [
            {"hooks": [recorder(f"test -e {stop_flag} || echo '{json.dumps(block)}'")]},
        ],
    }
    (worktree / ".claude").mkdir(exist_ok=True)
    (worktree / ".claude" / "settings.local.json").write_text(json.dumps({"hooks": hooks}))


def events(record: Path) -> dict[str, list[str]]:
    """Each hook event received, by name, as its sorted keys."""
    found: dict[str, list[str]] = {}
    for line in record.read_text().splitlines():
        if line.strip():
            payload = json.loads(line)
            found.setdefault(payload["hook_event_name"], sorted(payload))
    return found


def test_hooks_run_alike_and_post_tool_use_context_reaches_the_model(
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    real_record, real_flag = tmp_path / "real-events.jsonl", tmp_path / "real-answered"
    hook_settings(worktree, real_record, real_flag)
    anthropic_standin.script(
        bash("echo busy"), text("finished"), bash(f"touch {real_flag}"), text("answered")
    )
    env = real_clis.claude_env(anthropic_standin.url, tmp_path / "real-home")
    real_run = real(real_claude, worktree, env, "work")

    assert real_run.returncode == 0, real_run.stderr
    requests = anthropic_standin.conversation_requests()
    assert f"PostToolUse:Bash hook additional context: {QUESTION}" in texts_in(requests[1].body)
    assert not any(QUESTION in t for t in texts_in(requests[0].body))
    feedback = [b["text"] for b in blocks(real_run, "user") if b["type"] == "text"]
    assert feedback == ["Stop hook feedback:\nanswer c-42 first"]

    fake_record, fake_flag = tmp_path / "fake-events.jsonl", tmp_path / "fake-answered"
    hook_settings(worktree, fake_record, fake_flag)
    key = fake_agents.script(
        "hooked",
        [{"kind": "bash", "command": "echo busy"}, {"kind": "text", "text": "finished"}],
        on_stop_block=[{"kind": "bash", "command": f"touch {fake_flag}"}],
    )
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", f"work\n{key}")

    assert fake_run.returncode == 0, fake_run.stderr
    assert events(fake_record) == events(real_record)
    assert [b["text"] for b in blocks(fake_run, "user") if b["type"] == "text"] == feedback
    hook_lines = [(line["subtype"], line.get("hook_name")) for line in real_run.of_type("system")]
    fake_hook_lines = [
        (line["subtype"], line.get("hook_name"))
        for line in fake_run.of_type("system")
        if line["subtype"] != "hook_additional_context"
    ]
    assert fake_hook_lines == hook_lines
    assert [(s["event"], s["text"]) for s in fake_agents.seen()] == [
        ("SessionStart", "agent A starts"),
        ("PostToolUse", QUESTION),
        ("Stop", "answer c-42 first"),
        ("PostToolUse", QUESTION),
    ]


def test_resume_keeps_the_session_and_needs_the_transcript_in_the_config_dir(
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    anthropic_standin.script(text("first answer"), text("second answer"))
    env = real_clis.claude_env(anthropic_standin.url, tmp_path / "real-home")
    first = real(real_claude, worktree, env, "hello")
    session = one(first, "system", "init")["session_id"]
    assert transcript_path(worktree, session, Path(env["CLAUDE_CONFIG_DIR"])).exists()

    second = real(real_claude, worktree, env, "again", "--resume", session)
    assert second.returncode == 0, second.stderr
    assert one(second, "system", "init")["session_id"] == session
    assert one(second, "result")["session_id"] == session
    assert one(second, "result")["result"] == "second answer"

    elsewhere = real_clis.claude_env(anthropic_standin.url, tmp_path / "other-home")
    lost = real(real_claude, worktree, elsewhere, "again", "--resume", session)
    assert lost.returncode == 1
    real_error = one(lost, "result")
    assert real_error["subtype"] == "error_during_execution" and real_error["is_error"] is True
    assert f"No conversation found with session ID: {session}" in json.dumps(real_error)

    carried = transcript_path(worktree, session, Path(elsewhere["CLAUDE_CONFIG_DIR"]))
    carried.parent.mkdir(parents=True)
    shutil.copy(transcript_path(worktree, session, Path(env["CLAUDE_CONFIG_DIR"])), carried)
    anthropic_standin.script(text("third answer"))
    moved = real(real_claude, worktree, elsewhere, "again", "--resume", session)
    assert moved.returncode == 0, moved.stderr
    assert one(moved, "result")["session_id"] == session

    key = fake_agents.script("resumable", [{"kind": "text", "text": "first answer"}])
    fake_first = fake(fake_agents, worktree, tmp_path / "fake-home", key)
    fake_session = one(fake_first, "system", "init")["session_id"]
    fake_lost = fake(fake_agents, worktree, tmp_path / "fake-other", key, "--resume", fake_session)
    assert fake_lost.returncode == 1
    fake_error = one(fake_lost, "result")
    assert shape(fake_error) == shape(real_error)
    assert fake_error["errors"] == [e.replace(session, fake_session) for e in real_error["errors"]]


@pytest.mark.parametrize("hours", [2, 30], ids=["today", "tomorrow"])
def test_a_subscription_limit_prints_the_rate_limit_event_like_the_fake(
    hours: int,
    real_claude: Path,
    anthropic_standin: AnthropicStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    resets_at = anthropic_standin.hit_subscription_limit(
        "oauth-account-1", int(time.time()) + hours * 3600
    )
    env = real_clis.claude_env(
        anthropic_standin.url, tmp_path / "real-home", oauth_token="oauth-account-1"
    )
    real_run = real(real_claude, worktree, env, "work")

    assert real_run.returncode == 1
    assert {r.credential for r in anthropic_standin.message_requests()} == {"oauth-account-1"}
    real_event = one(real_run, "rate_limit_event")
    assert real_event["rate_limit_info"]["status"] == "rejected"
    assert real_event["rate_limit_info"]["resetsAt"] == resets_at
    real_result = one(real_run, "result")
    assert real_result["is_error"] is True and real_result["api_error_status"] == 429
    assert real_result["result"].startswith("You've hit your 5-hour limit · resets ")

    key = fake_agents.script("limited", [{"kind": "usage_limit", "resets_at": resets_at}])
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", key)

    assert fake_run.returncode == 1
    fake_event = one(fake_run, "rate_limit_event")
    assert fake_event["rate_limit_info"] == real_event["rate_limit_info"]
    assert shape(fake_event) == shape(real_event)
    fake_result = one(fake_run, "result")
    for name in ("subtype", "is_error", "result", "api_error_status", "terminal_reason"):
        assert fake_result[name] == real_result[name], name
    assert [b["text"] for b in blocks(fake_run, "assistant")] == [
        b["text"] for b in blocks(real_run, "assistant")
    ]
