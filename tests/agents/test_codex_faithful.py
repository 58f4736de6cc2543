"""The real Codex CLI (pinned, against the stand-in) and the fake print the same events.

Same approach as test_claude_faithful.py: each scenario runs through the real CLI, then the
same script through the fake, and the two outputs are compared.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from crosswalk.runner.providers import codex_hooks
from tests.agents import real_clis
from tests.agents.fake_codex import find_rollout
from tests.agents.kit import FAKE_CODEX, FakeAgents
from tests.agents.real_clis import Run
from tests.agents.standin_openai import OpenAIStandin, bash, text, texts_in

pytestmark = pytest.mark.slow  # each test starts the real CLI a few times

EXEC = ["exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write"]
TRUST = ["--trust", "--dangerously-bypass-hook-trust"]
MODEL_WARNING = "Model metadata for"


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: type(item).__name__ for key, item in value.items()}
    return type(value).__name__


def events(run: Run) -> list[dict[str, Any]]:
    """The run's events without the real CLI's warning about the stand-in's model name."""
    return [
        line
        for line in run.lines
        if not str(line.get("item", {}).get("message", "")).startswith(MODEL_WARNING)
    ]


def outline(run: Run) -> list[tuple[str, str | None]]:
    return [(line["type"], line.get("item", {}).get("type")) for line in events(run)]


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "work_tree.1"
    path.mkdir()
    return path


def fake(fake_agents: FakeAgents, worktree: Path, home: Path, *args: str) -> Run:
    """The fake in the same kind of environment as the real one (config.toml included)."""
    env = fake_agents.env(real_clis.codex_env("http://127.0.0.1:9", home))
    return real_clis.run_cli([FAKE_CODEX, *args], worktree, env)


def test_a_command_turn_prints_the_same_events_from_real_and_fake(
    real_codex: Path,
    openai_standin: OpenAIStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    openai_standin.script(bash("echo made > made.txt; echo printed"), text("All done."))
    env = real_clis.codex_env(openai_standin.url, tmp_path / "real-home")
    real_run = real_clis.run_cli([real_codex, *EXEC, "make a file"], worktree, env)

    assert real_run.returncode == 0, real_run.stderr
    assert (worktree / "made.txt").read_text() == "made\n"
    assert outline(real_run) == [
        ("thread.started", None),
        ("turn.started", None),
        ("item.started", "command_execution"),
        ("item.completed", "command_execution"),
        ("item.completed", "agent_message"),
        ("turn.completed", None),
    ]
    sent = texts_in(openai_standin.response_requests()[-1].body)
    assert any(t.endswith("Output:\nprinted\n") for t in sent), "the output reaches the model"
    thread_id = real_run.lines[0]["thread_id"]
    assert find_rollout(thread_id, Path(env["CODEX_HOME"])) is not None

    key = fake_agents.script(
        "same",
        [
            {"kind": "bash", "command": "echo made > made.txt; echo printed"},
            {"kind": "text", "text": "All done."},
        ],
    )
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", *EXEC, f"make a file\n{key}")

    assert fake_run.returncode == 0, fake_run.stderr
    assert outline(fake_run) == outline(real_run)
    for real_line, fake_line in zip(events(real_run), events(fake_run), strict=True):
        assert shape(fake_line) == shape(real_line)
        if "item" in real_line:
            real_item = {k: v for k, v in real_line["item"].items() if k != "id"}
            fake_item = {k: v for k, v in fake_line["item"].items() if k != "id"}
            assert fake_item == real_item
    assert shape(fake_run.lines[-1]["usage"]) == shape(real_run.lines[-1]["usage"])


def test_resume_keeps_the_thread_needs_the_rollout_and_a_usage_limit_fails_the_turn(
    real_codex: Path,
    openai_standin: OpenAIStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    openai_standin.script(text("first"), text("second"))
    env = real_clis.codex_env(openai_standin.url, tmp_path / "real-home")
    first = real_clis.run_cli([real_codex, *EXEC, "hello"], worktree, env)
    thread_id = first.lines[0]["thread_id"]
    second = real_clis.run_cli([real_codex, *EXEC, "resume", thread_id, "again"], worktree, env)

    assert second.returncode == 0, second.stderr
    assert second.lines[0] == {"type": "thread.started", "thread_id": thread_id}
    assert events(second)[-2]["item"]["text"] == "second"

    resets_at = openai_standin.hit_usage_limit("test-key", int(time.time()) + 2 * 3600)
    limited = real_clis.run_cli([real_codex, *EXEC, "resume", thread_id, "more"], worktree, env)
    assert limited.returncode == 1
    error, failed = events(limited)[-2:]
    assert error["type"] == "error" and failed["type"] == "turn.failed"
    assert failed["error"]["message"] == error["message"]
    assert "hit your usage limit" in error["message"]

    other = real_clis.codex_env(openai_standin.url, tmp_path / "other-home")
    rollout = find_rollout(thread_id, Path(env["CODEX_HOME"]))
    assert rollout is not None
    unknown = real_clis.run_cli([real_codex, *EXEC, "resume", thread_id, "x"], worktree, other)
    assert unknown.returncode == 1 and unknown.lines == []
    assert f"no rollout found for thread id {thread_id}" in unknown.stderr
    carried = Path(other["CODEX_HOME"]) / rollout.relative_to(env["CODEX_HOME"])
    carried.parent.mkdir(parents=True)
    shutil.copy(rollout, carried)
    openai_standin.usage_limits.clear()
    openai_standin.script(text("third"))
    moved = real_clis.run_cli([real_codex, *EXEC, "resume", thread_id, "x"], worktree, other)
    assert moved.returncode == 0, moved.stderr
    assert moved.lines[0]["thread_id"] == thread_id

    key = fake_agents.script(
        "resumable",
        [{"kind": "text", "text": "first"}],
        [{"kind": "text", "text": "second"}],
        [{"kind": "usage_limit", "resets_at": resets_at}],
    )
    home = tmp_path / "fake-home"
    fake_first = fake(fake_agents, worktree, home, *EXEC, f"hello\n{key}")
    fake_thread = fake_first.lines[0]["thread_id"]
    fake_second = fake(fake_agents, worktree, home, *EXEC, "resume", fake_thread, key)
    assert fake_second.lines[0] == {"type": "thread.started", "thread_id": fake_thread}
    assert outline(fake_second) == outline(second)
    fake_limited = fake(fake_agents, worktree, home, *EXEC, "resume", fake_thread, key)
    assert fake_limited.returncode == 1
    assert outline(fake_limited) == outline(limited)
    assert events(fake_limited)[-2:] == [error, failed]


def hooks_file(worktree: Path, record: Path, stop_flag: Path) -> None:
    context = {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "Q-7"}}
    block = {"decision": "block", "reason": "answer Q-7 first"}

    def recorder(then: str) -> dict[str, Any]:
        return {"type": "command", "command": f"cat >> {record}; echo >> {record}; {then}"}

    hooks = {
        "SessionStart": [{"hooks": [recorder("true")]}],
        "PostToolUse": [{"matcher": "Bash", "hooks": [recorder(f"echo '{json.dumps(context)}'")]}],
        "Stop": [{"hooks": [recorder(f"test -e {stop_flag} || echo '{json.dumps(block)}'")]}],
    }
    (worktree / ".codex").mkdir(exist_ok=True)
    (worktree / ".codex" / "hooks.json").write_text(json.dumps({"hooks": hooks}))


def payload_keys(record: Path) -> list[tuple[str, list[str]]]:
    payloads = [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
    return [(p["hook_event_name"], sorted(p)) for p in payloads]


def test_trusted_hooks_run_alike_and_context_reaches_the_model(
    real_codex: Path,
    openai_standin: OpenAIStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    real_record, real_flag = tmp_path / "real-events.jsonl", tmp_path / "real-answered"
    hooks_file(worktree, real_record, real_flag)
    openai_standin.script(bash("echo busy"), text("finished"), bash(f"touch {real_flag}"))
    env = real_clis.codex_env(openai_standin.url, tmp_path / "real-home")
    real_run = real_clis.run_cli([real_codex, *EXEC, *TRUST, "work"], worktree, env)

    assert real_run.returncode == 0, real_run.stderr
    second_request = openai_standin.response_requests()[1].body
    developer = [i for i in second_request["input"] if i.get("role") == "developer"]
    assert "Q-7" in texts_in(developer)
    third_request = openai_standin.response_requests()[2].body
    assert any(
        t.startswith("<hook_prompt") and t.endswith(">answer Q-7 first</hook_prompt>")
        for t in texts_in(third_request["input"])
    )

    fake_record, fake_flag = tmp_path / "fake-events.jsonl", tmp_path / "fake-answered"
    hooks_file(worktree, fake_record, fake_flag)
    key = fake_agents.script(
        "hooked",
        [{"kind": "bash", "command": "echo busy"}, {"kind": "text", "text": "finished"}],
        on_stop_block=[{"kind": "bash", "command": f"touch {fake_flag}"}],
    )
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", *EXEC, *TRUST, key)

    assert fake_run.returncode == 0, fake_run.stderr
    assert payload_keys(fake_record) == payload_keys(real_record)
    warnings = [line for line in events(real_run) if line.get("item", {}).get("type") == "error"]
    fake_warnings = [line for line in fake_run.lines if line.get("item", {}).get("type") == "error"]
    assert [w["item"]["message"] for w in fake_warnings] == [w["item"]["message"] for w in warnings]
    assert [(s["event"], s["text"][-20:]) for s in fake_agents.seen()] == [
        ("PostToolUse", "Q-7"),
        ("Stop", ">answer Q-7 first</hook_prompt>"[-20:]),
        ("PostToolUse", "Q-7"),
    ]


def test_untrusted_hooks_are_skipped_by_real_and_fake(
    real_codex: Path,
    openai_standin: OpenAIStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    record = tmp_path / "events.jsonl"
    hooks_file(worktree, record, tmp_path / "flag")
    openai_standin.script(bash("echo busy"), text("finished"))
    env = real_clis.codex_env(openai_standin.url, tmp_path / "real-home")
    real_run = real_clis.run_cli([real_codex, *EXEC, "work"], worktree, env)
    assert real_run.returncode == 0, real_run.stderr
    assert not record.exists()

    key = fake_agents.script("untrusted", [{"kind": "bash", "command": "echo busy"}])
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", *EXEC, key)
    assert fake_run.returncode == 0, fake_run.stderr
    assert not record.exists()


def test_session_flag_hooks_trusted_by_hash_run_without_touching_any_config(
    real_codex: Path,
    openai_standin: OpenAIStandin,
    fake_agents: FakeAgents,
    worktree: Path,
    tmp_path: Path,
) -> None:
    """What the runner gives Codex: hooks as ``-c`` session flags with their trust
    (``crosswalk.runner.providers.codex_hooks``). The real CLI runs them and their context
    reaches the model; nothing is written to config.toml; a hook whose hash does not match
    is skipped. The fake does the same."""

    def args(record: Path, command_suffix: str = "") -> list[str]:
        context = {
            "hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "Q-9"}
        }
        command = f"cat >> {record}; echo >> {record}; echo '{json.dumps(context)}'"
        group = {"matcher": "", "hooks": [{"type": "command", "command": command, "timeout": 10}]}
        overrides = codex_hooks.session_hook_args({"PostToolUse": group})
        if command_suffix:  # the trust was given for another command: not trusted
            overrides[1] = overrides[1].replace("cat >>", f"{command_suffix}cat >>", 1)
        return overrides

    real_record = tmp_path / "real.jsonl"
    openai_standin.script(bash("echo busy"), text("finished"))
    env = real_clis.codex_env(openai_standin.url, tmp_path / "real-home")
    config = Path(env["CODEX_HOME"]) / "config.toml"
    before = config.read_text()
    real_run = real_clis.run_cli([real_codex, *EXEC, *args(real_record), "work"], worktree, env)
    assert real_run.returncode == 0, real_run.stderr
    assert real_record.exists()
    second = openai_standin.response_requests()[1].body["input"]
    developer = [item for item in second if item.get("role") == "developer"]
    assert "Q-9" in texts_in(developer)
    assert config.read_text() == before

    tampered = tmp_path / "tampered.jsonl"
    openai_standin.script(bash("echo busy"), text("finished"))
    run = real_clis.run_cli([real_codex, *EXEC, *args(tampered, "true; "), "work"], worktree, env)
    assert run.returncode == 0, run.stderr
    assert not tampered.exists()

    fake_record, fake_tampered = tmp_path / "fake.jsonl", tmp_path / "fake-tampered.jsonl"
    key = fake_agents.script("flags", [{"kind": "bash", "command": "echo busy"}])
    fake_run = fake(fake_agents, worktree, tmp_path / "fake-home", *EXEC, *args(fake_record), key)
    assert fake_run.returncode == 0, fake_run.stderr
    assert payload_keys(fake_record) == payload_keys(real_record)
    assert [s["text"] for s in fake_agents.seen()] == ["Q-9"]
    fake(fake_agents, worktree, tmp_path / "fake-home", *EXEC, *args(fake_tampered, "true; "), key)
    assert not fake_tampered.exists()
