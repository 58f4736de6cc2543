"""The fake `codex`: scripts, crashes, sandbox, resume errors, hook trust."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.agents.fake_codex import reset_time
from tests.agents.kit import FAKE_CODEX, FakeAgents
from tests.agents.real_clis import Run, run_cli

EXEC = ["exec", "--json", "--skip-git-repo-check"]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "worktree"
    path.mkdir()
    return path


def codex(fake_agents: FakeAgents, worktree: Path, *args: str, **env: str) -> Run:
    base = fake_agents.env()
    base.update(HOME=str(worktree.parent / "home"), **env)
    base.pop("CODEX_HOME", None)
    base.update(env)
    return run_cli([FAKE_CODEX, *EXEC, *args], worktree, base, timeout=60)


def test_a_script_writes_and_runs_commands_with_the_agent_environment(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    key = fake_agents.script(
        "work",
        [
            {"kind": "write", "path": "out/a.txt", "content": "codex was here"},
            {"kind": "bash", "command": "echo agent=$CW_AGENT_ID; exit 4"},
            {"kind": "result", "text": "finished"},
        ],
    )
    run = codex(fake_agents, worktree, "--sandbox", "workspace-write", key, CW_AGENT_ID="b2")

    assert run.returncode == 0, run.stderr
    assert (worktree / "out" / "a.txt").read_text() == "codex was here"
    commands = [line["item"] for line in run.of_type("item.completed")]
    assert commands[1]["aggregated_output"] == "agent=b2\n"
    assert (commands[1]["exit_code"], commands[1]["status"]) == (4, "failed")
    assert commands[-1] == {"id": commands[-1]["id"], "type": "agent_message", "text": "finished"}
    assert run.lines[-1]["type"] == "turn.completed"
    (call,) = fake_agents.calls("codex")
    assert call["session_id"] == run.lines[0]["thread_id"] and call["env"]["CW_AGENT_ID"] == "b2"


def test_without_a_writable_sandbox_writes_fail(fake_agents: FakeAgents, worktree: Path) -> None:
    key = fake_agents.script("ro", [{"kind": "write", "path": "a.txt", "content": "x"}])
    run = codex(fake_agents, worktree, key)
    assert run.returncode == 0
    assert not (worktree / "a.txt").exists()
    (failed,) = [
        line["item"] for line in run.of_type("item.completed") if line["item"].get("exit_code") == 1
    ]
    assert "Read-only file system" in failed["aggregated_output"]


def test_sandbox_after_resume_is_refused(fake_agents: FakeAgents, worktree: Path) -> None:
    run = codex(fake_agents, worktree, "resume", "some-id", "--sandbox", "workspace-write", "x")
    assert run.returncode == 2
    assert "unexpected argument '--sandbox'" in run.stderr


def test_exit_step_crashes_mid_turn(fake_agents: FakeAgents, worktree: Path) -> None:
    key = fake_agents.script(
        "crash", [{"kind": "bash", "command": "true"}, {"kind": "exit", "code": 9}]
    )
    run = codex(fake_agents, worktree, key)
    assert run.returncode == 9
    assert run.lines[-1]["type"] == "item.completed"


def test_resume_of_an_unknown_thread_fails_before_any_event(
    fake_agents: FakeAgents, worktree: Path
) -> None:
    run = codex(fake_agents, worktree, "resume", "0000-missing", "again")
    assert run.returncode == 1
    assert run.lines == []
    assert "no rollout found for thread id 0000-missing" in run.stderr


def test_resume_under_codex_home_finds_the_rollout(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    key = fake_agents.script(
        "r", [{"kind": "text", "text": "one"}], [{"kind": "text", "text": "two"}]
    )
    home = str(tmp_path / "account-1")
    thread = codex(fake_agents, worktree, key, CODEX_HOME=home).lines[0]["thread_id"]
    moved = codex(fake_agents, worktree, "resume", thread, key, CODEX_HOME=str(tmp_path / "b"))
    assert moved.returncode == 1
    again = codex(fake_agents, worktree, "resume", thread, key, CODEX_HOME=home)
    assert again.returncode == 0
    assert again.of_type("item.completed")[-1]["item"]["text"] == "two"


def write_hooks(worktree: Path, command: str) -> Path:
    path = worktree / ".codex" / "hooks.json"
    path.parent.mkdir()
    hook = {"matcher": "Bash", "hooks": [{"type": "command", "command": command}]}
    path.write_text(json.dumps({"hooks": {"PostToolUse": [hook]}}))
    return path


def test_hooks_run_only_when_trusted_in_config(
    fake_agents: FakeAgents, worktree: Path, tmp_path: Path
) -> None:
    context = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "Q"}}
    hooks_json = write_hooks(worktree, f"echo '{json.dumps(context)}'")
    key = fake_agents.script("hooked", [{"kind": "bash", "command": "true"}])
    home = tmp_path / "codex-home"
    home.mkdir()

    codex(fake_agents, worktree, key, CODEX_HOME=str(home))
    assert fake_agents.seen() == []

    (home / "config.toml").write_text(
        f'[hooks.state."{hooks_json}:post_tool_use:0:0"]\ntrusted_hash = "sha256:abc"\n'
    )
    codex(fake_agents, worktree, key, CODEX_HOME=str(home))
    assert [(s["cli"], s["event"], s["text"]) for s in fake_agents.seen()] == [
        ("codex", "PostToolUse", "Q")
    ]


def test_a_usage_limit_names_the_reset_by_clock_that_day_and_by_date_after_it() -> None:
    # As the real Codex does (test_codex_faithful checks whichever case the hour brings).
    noon = time.mktime((2026, 11, 29, 12, 0, 0, 0, 0, -1))
    assert reset_time(int(noon + 3600), now=noon) == "1:00 PM"
    assert reset_time(int(noon + 12 * 3600 + 720), now=noon) == "Nov 30th, 2026 12:12 AM"
    for day, written in [(1, "1st"), (2, "2nd"), (3, "3rd"), (11, "11th"), (22, "22nd")]:
        later = time.mktime((2026, 12, day, 9, 5, 0, 0, 0, -1))
        assert reset_time(int(later), now=noon) == f"Dec {written}, 2026 9:05 AM"
