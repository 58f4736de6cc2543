"""The fake `claude`: scripts chosen by prompt, resumes, crashes, limits, hooks."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.agents.fake_claude import transcript_path
from tests.agents.kit import FAKE_CLAUDE, FakeAgents
from tests.agents.real_clis import Run, run_cli

STREAM = ["--output-format", "stream-json", "--verbose"]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "worktree"
    path.mkdir()
    return path


def claude(fake_agents: FakeAgents, worktree: Path, prompt: str, *extra: str, **env: str) -> Run:
    base = fake_agents.env()
    base.update(HOME=str(worktree.parent / "home"), **env)
    return run_cli([FAKE_CLAUDE, "-p", prompt, *STREAM, *extra], worktree, base, timeout=60)


def settings(worktree: Path, hooks: dict[str, Any]) -> None:
    (worktree / ".claude").mkdir(exist_ok=True)
    (worktree / ".claude" / "settings.local.json").write_text(json.dumps({"hooks": hooks}))


def command_hook(command: str, matcher: str = "", timeout: float | None = None) -> dict[str, Any]:
    hook: dict[str, Any] = {"type": "command", "command": command}
    if timeout is not None:
        hook["timeout"] = timeout
    return {"matcher": matcher, "hooks": [hook]}


def test_prompt_key_picks_the_script_and_steps_run_in_the_worktree(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    key = fake_agents.script(
        "writer",
        [
            {"kind": "write", "path": "notes/a.txt", "content": "from the fake"},
            {"kind": "bash", "command": "echo shell-$CW_AGENT_ID"},
            {"kind": "result", "text": "wrote it"},
        ],
    )
    run = claude(fake_agents, worktree, f"Task: write.\n{key}\n", CW_AGENT_ID="a1", CW_TOKEN="t")

    assert run.returncode == 0, run.stderr
    assert (worktree / "notes" / "a.txt").read_text() == "from the fake"
    init, *_ = run.lines
    assert init["type"] == "system" and init["subtype"] == "init"
    results = [b for line in run.of_type("user") for b in line["message"]["content"]]
    assert [b["content"] for b in results][1] == "shell-a1"
    result = run.lines[-1]
    assert result["type"] == "result" and result["subtype"] == "success"
    assert (result["is_error"], result["result"]) == (False, "wrote it")
    assert result["session_id"] == init["session_id"]
    (call,) = fake_agents.calls("claude")
    assert call["script"] == "writer" and call["cwd"] == str(worktree)
    assert call["env"]["CW_AGENT_ID"] == "a1" and call["env"]["CW_TOKEN"] is True


def test_without_a_key_the_default_script_runs(fake_agents: FakeAgents, worktree: Path) -> None:
    fake_agents.script("default", [{"kind": "text", "text": "default ran"}])
    run = claude(fake_agents, worktree, "no key here")
    assert run.lines[-1]["result"] == "default ran"


def test_a_named_script_that_is_missing_is_an_error(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    run = claude(fake_agents, worktree, "fake-script: nowhere")
    assert run.returncode == 2
    assert "nowhere" in run.stderr


def test_stream_json_without_verbose_is_refused_like_the_real_cli(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    env = fake_agents.env()
    run = run_cli([FAKE_CLAUDE, "-p", "x", "--output-format", "stream-json"], worktree, env)
    assert run.returncode == 1
    assert "requires --verbose" in run.stderr


def test_resume_keeps_the_session_and_runs_the_next_step_list(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    key = fake_agents.script(
        "two", [{"kind": "result", "text": "first"}], [{"kind": "result", "text": "second"}]
    )
    first = claude(fake_agents, worktree, key)
    session = first.lines[0]["session_id"]
    second = claude(fake_agents, worktree, key, "--resume", session)

    assert second.returncode == 0
    assert second.lines[0]["session_id"] == session
    assert second.lines[-1]["result"] == "second"
    assert [c["run_index"] for c in fake_agents.calls()] == [0, 1]
    config = worktree.parent / "home" / ".claude"
    assert transcript_path(worktree, session, config).exists()


def test_resume_under_another_config_dir_finds_no_conversation(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    key = fake_agents.script("one", [{"kind": "result", "text": "first"}])
    session = claude(fake_agents, worktree, key).lines[0]["session_id"]
    other = str(tmp_path / "other-account")
    run = claude(fake_agents, worktree, key, "--resume", session, CLAUDE_CONFIG_DIR=other)

    assert run.returncode == 1
    (result,) = run.lines
    assert result["subtype"] == "error_during_execution" and result["is_error"] is True
    assert result["errors"] == [f"No conversation found with session ID: {session}"]


def test_exit_step_crashes_without_a_result(fake_agents: FakeAgents, worktree: Path) -> None:
    key = fake_agents.script(
        "crash", [{"kind": "text", "text": "about to die"}, {"kind": "exit", "code": 3}]
    )
    run = claude(fake_agents, worktree, key)
    assert run.returncode == 3
    assert run.of_type("result") == []
    assert run.lines[-1]["type"] == "assistant"


def test_usage_limit_prints_the_rate_limit_event_and_an_error_result(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    key = fake_agents.script("limit", [{"kind": "usage_limit", "resets_at": 1_900_000_000}])
    run = claude(fake_agents, worktree, key)

    assert run.returncode == 1
    (event,) = run.of_type("rate_limit_event")
    assert event["rate_limit_info"]["status"] == "rejected"
    assert event["rate_limit_info"]["resetsAt"] == 1_900_000_000
    result = run.lines[-1]
    assert result["is_error"] is True and result["api_error_status"] == 429
    assert result["result"].startswith("You've hit your 5-hour limit · resets ")


def test_post_tool_use_context_is_seen_once_per_tool_and_matcher_is_honoured(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    context = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "Q1"}}
    settings(
        worktree,
        {
            "PostToolUse": [
                command_hook(
                    f"cat >> {events}; echo >> {events}; echo '{json.dumps(context)}'", "Bash"
                ),
                command_hook("echo plain text is ignored", ""),
            ]
        },
    )
    key = fake_agents.script(
        "tools",
        [
            {"kind": "write", "path": "f.txt", "content": "x"},
            {"kind": "bash", "command": "true"},
        ],
    )
    run = claude(fake_agents, worktree, key)

    assert run.returncode == 0, run.stderr
    (payload,) = [json.loads(line) for line in events.read_text().splitlines() if line]
    assert payload["hook_event_name"] == "PostToolUse" and payload["tool_name"] == "Bash"
    assert payload["tool_input"]["command"] == "true"
    assert payload["session_id"] == run.lines[0]["session_id"]
    assert payload["cwd"] == str(worktree)
    assert Path(payload["transcript_path"]).exists()
    assert [(s["event"], s["text"]) for s in fake_agents.seen()] == [("PostToolUse", "Q1")]
    shown = [line for line in run.of_type("system") if line.get("subtype") != "init"]
    assert [line["content"] for line in shown] == ["PostToolUse:Bash hook additional context: Q1"]


def test_answer_seen_questions_answers_each_delivered_question_once(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    answers = tmp_path / "answers.txt"
    cw = bin_dir / "cw"
    cw.write_text(f'#!/bin/sh\necho "$@" >> {answers}\n')
    cw.chmod(0o755)
    text = (
        'Question c-1 from A: run cw answer c-1 "..." ; question c-2: cw answer c-2 "..." ; '
        'question -c3: cw answer -- -c3 "..."'
    )
    context = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": text}}
    settings(worktree, {"PostToolUse": [command_hook(f"echo '{json.dumps(context)}'", "Bash")]})
    key = fake_agents.script(
        "answerer",
        [
            {"kind": "bash", "command": "true"},
            {"kind": "answer_seen_questions", "text": "yes to {id}"},
            {"kind": "answer_seen_questions", "text": "again {id}"},
        ],
    )
    path = f"{bin_dir}{os.pathsep}{fake_agents.env()['PATH']}"
    run = claude(fake_agents, worktree, key, PATH=path)

    assert run.returncode == 0, run.stderr
    assert answers.read_text().splitlines() == [
        "answer -- c-1 yes to c-1",
        "answer -- c-2 yes to c-2",
        "answer -- -c3 yes to -c3",
    ]


def test_stop_block_runs_on_stop_block_then_stops_when_allowed(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "answered"
    block = json.dumps({"decision": "block", "reason": "question q-9 is waiting"})
    settings(
        worktree,
        {
            "Stop": [
                {"hooks": [{"type": "command", "command": f"test -e {flag} || echo '{block}'"}]}
            ]
        },
    )
    key = fake_agents.script(
        "stopper",
        [{"kind": "text", "text": "finished"}],
        on_stop_block=[{"kind": "bash", "command": f"touch {flag}"}],
    )
    run = claude(fake_agents, worktree, key)

    assert run.returncode == 0
    commands = [
        b["input"]["command"]
        for line in run.of_type("assistant")
        for b in line["message"]["content"]
        if b["type"] == "tool_use"
    ]
    assert commands == [f"touch {flag}"]
    assert [s["text"] for s in fake_agents.seen()] == ["question q-9 is waiting"]
    assert run.lines[-1]["subtype"] == "success"


def test_a_stop_hook_that_always_blocks_is_bounded(fake_agents: FakeAgents, worktree: Path) -> None:
    block = json.dumps({"decision": "block", "reason": "never done"})
    settings(worktree, {"Stop": [{"hooks": [{"type": "command", "command": f"echo '{block}'"}]}]})
    key = fake_agents.script("stuck", [{"kind": "text", "text": "t"}], max_stop_blocks=2)
    run = claude(fake_agents, worktree, key)
    assert run.returncode == 0
    assert len(fake_agents.seen()) == 2


def test_a_hook_past_its_timeout_is_killed_and_ignored(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    context = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "late"}}
    settings(
        worktree,
        {"PostToolUse": [command_hook(f"sleep 5; echo '{json.dumps(context)}'", timeout=0.5)]},
    )
    key = fake_agents.script("slow", [{"kind": "bash", "command": "true"}])
    run = claude(fake_agents, worktree, key)
    assert run.returncode == 0
    assert fake_agents.seen() == []


def test_session_start_and_prompt_hooks_get_their_events(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    settings(
        worktree,
        {
            "SessionStart": [command_hook("echo you are agent A")],
            "UserPromptSubmit": [command_hook("cat >/dev/null; echo prompt seen")],
        },
    )
    run = claude(fake_agents, worktree, "hello")
    assert run.returncode == 0
    assert [(s["event"], s["text"]) for s in fake_agents.seen()] == [
        ("SessionStart", "you are agent A"),
        ("UserPromptSubmit", "prompt seen"),
    ]


def test_a_reset_on_the_hour_is_worded_without_minutes_like_the_real_cli() -> None:
    from tests.agents.fake_claude import reset_time

    now = int(time.time())
    on_the_hour = now - now % 3600 + 3600
    assert reset_time(on_the_hour).endswith("pm (UTC)") or reset_time(on_the_hour).endswith(
        "am (UTC)"
    )
    assert ":00" not in reset_time(on_the_hour)
    assert ":01" in reset_time(on_the_hour + 60)


def test_chatter_prints_a_text_line_on_each_beat_until_its_file_exists(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    stop = tmp_path / "stop"
    key = fake_agents.script(
        "busy", [{"kind": "chatter", "every": 0.1, "seconds": 0.5, "until": str(stop)}]
    )
    run = claude(fake_agents, worktree, key)

    assert run.returncode == 0, run.stderr
    texts = [line["message"]["content"][0]["text"] for line in run.of_type("assistant")]
    # 0.5 s on a 0.1 s beat: at most 5 lines
    assert 1 <= len(texts) <= 5
    assert texts == [f"working, line {n}" for n in range(len(texts))]
    assert run.lines[-1]["result"] == texts[-1]

    stop.touch()
    assert claude(fake_agents, worktree, key).of_type("assistant") == []
