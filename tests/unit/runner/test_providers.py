"""The providers' command lines and how they read each CLI's output (agent-clis.md)."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from typing import Any

from crosswalk.agent_mcp import claude_mcp_config, codex_overrides
from crosswalk.domain.usage import Usage
from crosswalk.runner.providers import ClaudeProvider, CodexProvider, RunOptions, codex_hooks
from crosswalk.runner.providers._limits import reset_time_in_text

NOW = datetime(2026, 11, 29, 17, 0, tzinfo=UTC)
URL = "http://10.0.0.5:8377/trpc"  # the CW_URL agents reach the server at


def feed(reader: Any, *events: dict[str, Any] | str) -> Any:
    for event in events:
        reader.feed(event if isinstance(event, str) else json.dumps(event))
    return reader.outcome


def test_claude_command_for_a_first_run_and_a_resume() -> None:
    claude = ClaudeProvider()
    first = claude.command("/bin/claude", "do it", None, RunOptions(server_url=URL))
    tools = (
        "Bash(cw:*),mcp__crosswalk__ask,mcp__crosswalk__pending,mcp__crosswalk__answer,"
        "mcp__crosswalk__wait,mcp__crosswalk__whoami"
    )
    assert first == [
        "/bin/claude", "-p", "do it", "--output-format", "stream-json", "--verbose",
        "--permission-mode", "acceptEdits", "--allowedTools", tools,
        "--mcp-config", claude_mcp_config(URL),
    ]  # fmt: skip
    resumed = claude.command(
        "/bin/claude", "go on", "S1", RunOptions("bypassPermissions", server_url=URL)
    )
    assert resumed[resumed.index("--resume") + 1] == "S1"
    assert resumed[-4:] == [
        "--permission-mode", "bypassPermissions", "--mcp-config", claude_mcp_config(URL),
    ]  # fmt: skip
    assert "--allowedTools" not in resumed


def test_claude_is_given_the_servers_mcp_endpoint_with_the_token_by_name() -> None:
    """Over HTTP, beside the agent's CW_URL; Claude Code fills the header from CW_TOKEN
    in its environment, so no token is on a command line others can read."""
    argv = ClaudeProvider().command("/bin/claude", "p", None, RunOptions(server_url=URL))
    config = json.loads(argv[argv.index("--mcp-config") + 1])
    assert config == {"mcpServers": {"crosswalk": {
        "type": "http",
        "url": "http://10.0.0.5:8377/mcp",
        "headers": {"Authorization": "Bearer ${CW_TOKEN}"},
    }}}  # fmt: skip


def test_codex_is_given_the_servers_mcp_endpoint_with_the_token_by_name() -> None:
    argv = CodexProvider().command("codex", "p", None, RunOptions(server_url=URL))
    settings = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-c"]
    mcp = [tomllib.loads(s) for s in settings if s.startswith("mcp_servers.crosswalk.")]
    merged = {k: v for table in mcp for k, v in table["mcp_servers"]["crosswalk"].items()}
    assert merged == {"url": "http://10.0.0.5:8377/mcp", "bearer_token_env_var": "CW_TOKEN"}


def test_claude_reads_session_and_success_result() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "system", "subtype": "init", "session_id": "S1", "model": "m"},
        "not json at all",
        {"type": "assistant", "message": {"content": []}, "session_id": "S1"},
        {
            "type": "result", "subtype": "success", "is_error": False, "result": "done",
            "session_id": "S1", "num_turns": 2, "total_cost_usd": 0.5, "duration_ms": 1200,
        },
    )  # fmt: skip
    assert outcome.session_id == "S1"
    assert outcome.succeeded
    assert outcome.usage_limit is None
    assert outcome.result == {
        "subtype": "success", "isError": False, "result": "done", "totalCostUsd": 0.5,
        "numTurns": 2, "durationMs": 1200,
    }  # fmt: skip


def test_claude_a_resume_that_hands_out_a_new_session_id_is_followed() -> None:
    reader = ClaudeProvider().reader(NOW)
    feed(reader, {"type": "system", "subtype": "init", "session_id": "S2"})
    assert reader.outcome.session_id == "S2"


def test_claude_error_result_is_not_success() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "result", "subtype": "success", "is_error": True, "result": "API Error: 500"},
    )
    assert not outcome.succeeded
    assert outcome.usage_limit is None
    assert outcome.result is not None and outcome.result["isError"] is True


def test_claude_rate_limit_event_gives_the_reset_time() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "system", "subtype": "init", "session_id": "S1"},
        {
            "type": "rate_limit_event",
            "rate_limit_info": {"status": "rejected", "resetsAt": 1_796_000_000},
        },
        {
            "type": "result", "subtype": "success", "is_error": True,
            "result": "You've hit your 5-hour limit · resets 6:42pm (UTC)",
        },
    )  # fmt: skip
    assert not outcome.succeeded
    assert outcome.usage_limit is not None
    # The event's exact time wins over the time of day in the text.
    assert outcome.usage_limit.resets_at == datetime.fromtimestamp(1_796_000_000, UTC)


def test_claude_limit_text_alone_gives_its_time_of_day() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "result", "subtype": "success", "is_error": True,
         "result": "You've hit your 5-hour limit · resets 6:42pm (UTC)"},
    )  # fmt: skip
    assert outcome.usage_limit is not None
    assert outcome.usage_limit.resets_at == datetime(2026, 11, 29, 18, 42, tzinfo=UTC)


def test_claude_allowed_rate_limit_event_is_no_limit() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed", "resetsAt": 1}},
        {"type": "result", "subtype": "success", "is_error": False, "result": "ok"},
    )
    assert outcome.usage_limit is None
    assert outcome.succeeded


def test_claude_usage_limit_with_epoch_in_the_text() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "result", "subtype": "success", "is_error": True,
         "result": "Claude AI usage limit reached|1796000000"},
    )  # fmt: skip
    assert outcome.usage_limit is not None
    assert outcome.usage_limit.resets_at == datetime.fromtimestamp(1_796_000_000, UTC)


def test_reset_times_of_day_roll_over_to_tomorrow() -> None:
    assert reset_time_in_text("resets 3:45pm", NOW) == datetime(2026, 11, 30, 15, 45, tzinfo=UTC)
    assert reset_time_in_text("try again at 6:45 PM.", NOW) == datetime(
        2026, 11, 29, 18, 45, tzinfo=UTC
    )
    assert reset_time_in_text("resets 12am", NOW) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert reset_time_in_text("no time here", NOW) is None


def test_reset_times_with_a_date() -> None:
    assert reset_time_in_text("resets Nov 30, 11:59pm (UTC)", NOW) == datetime(
        2026, 11, 30, 23, 59, tzinfo=UTC
    )
    assert reset_time_in_text("resets Jun 17, 2027, 5:59pm (UTC)", NOW) == datetime(
        2027, 6, 17, 17, 59, tzinfo=UTC
    )
    assert reset_time_in_text("resets Jan 2, 1am", NOW) == datetime(2027, 1, 2, 1, 0, tzinfo=UTC)


def test_codex_limit_message_with_a_typographic_apostrophe() -> None:
    message = "You\u2019ve hit your usage limit. Upgrade or try again at 6:45 PM."
    outcome = feed(
        CodexProvider().reader(NOW),
        {"type": "error", "message": message},
        {"type": "turn.failed", "error": {"message": message}},
    )
    assert outcome.usage_limit is not None


def test_codex_command_puts_the_sandbox_before_resume() -> None:
    codex = CodexProvider()
    first = codex.command("codex", "p", None, RunOptions())
    assert first[:6] == [
        "codex", "exec", "--json", "--skip-git-repo-check", "--sandbox", "workspace-write",
    ]  # fmt: skip
    assert first[-1] == "p"
    overrides = codex_overrides(RunOptions().server_url)  # crosswalk's MCP endpoint
    assert first[6 : 6 + len(overrides)] == overrides
    resumed = codex.command("codex", "p", "T1", RunOptions())
    assert resumed.index("--sandbox") < resumed.index("resume")
    assert resumed.index("-c") < resumed.index("resume")
    assert resumed[-3:] == ["resume", "T1", "p"]


def test_codex_gets_crosswalks_hooks_trusted_on_its_command_line() -> None:
    """The hooks come as session flags with their trust, so nothing is written into any
    config.toml; each hook's hash is the one Codex itself computes."""
    argv = CodexProvider().command("codex", "p", None, RunOptions())
    overrides = [
        argv[i + 1]
        for i, arg in enumerate(argv)
        if arg == "-c" and argv[i + 1].startswith("hooks.")
    ]
    parsed: dict[str, Any] = {}
    for override in overrides:
        parsed.update(tomllib.loads(override.replace("=", " = ", 1))["hooks"])
    assert set(parsed) == {"SessionStart", "PostToolUse", "Stop", "state"}
    [post] = parsed["PostToolUse"]
    assert post["matcher"] == ""
    assert post["hooks"][0]["command"].endswith("hook codex PostToolUse")
    key = "/<session-flags>/config.toml:post_tool_use:0:0"
    expected = codex_hooks.trusted_hash("PostToolUse", post, post["hooks"][0])
    assert parsed["state"][key] == {"trusted_hash": expected}
    assert len(parsed["state"]) == 3


def test_codex_hook_hashes_match_what_the_pinned_codex_reports() -> None:
    """Values ``codex app-server`` (0.171.0) reported as ``currentHash`` for these hooks."""
    group = {"matcher": "", "hooks": [{"type": "command", "command": "echo hi"}]}
    assert codex_hooks.trusted_hash("PostToolUse", group, group["hooks"][0]) == (
        "sha256:803ba2243613074aad84e3898c01a70060f5b3909d277168879e62e9c9a8bb9f"
    )
    bash = {"matcher": "Bash", "hooks": [{"type": "command", "command": "echo hi"}]}
    assert codex_hooks.trusted_hash("PostToolUse", bash, bash["hooks"][0]).startswith(
        "sha256:5662dca6"
    )
    stop = {"hooks": [{"type": "command", "command": "echo hi"}]}
    assert codex_hooks.trusted_hash("Stop", stop, stop["hooks"][0]).startswith("sha256:f2aa169c")
    timed = {"matcher": "", "hooks": [{"type": "command", "command": "echo hi", "timeout": 10}]}
    assert codex_hooks.trusted_hash("PostToolUse", timed, timed["hooks"][0]).startswith(
        "sha256:4a1baf98"
    )


def test_codex_reads_thread_message_and_completion() -> None:
    outcome = feed(
        CodexProvider().reader(NOW),
        {"type": "thread.started", "thread_id": "T1"},
        {"type": "turn.started"},
        {"type": "error", "message": "Reconnecting... 1/5"},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "all done"}},
        {"type": "turn.completed", "usage": {"input_tokens": 3}},
    )
    assert outcome.session_id == "T1"
    assert outcome.succeeded
    assert outcome.result is not None and outcome.result["result"] == "all done"


def test_codex_turn_failed_is_a_failure_and_usage_limit_is_a_limit() -> None:
    failed = feed(
        CodexProvider().reader(NOW),
        {"type": "thread.started", "thread_id": "T1"},
        {"type": "turn.failed", "error": {"message": "exceeded retry limit, last status: 429"}},
    )
    assert not failed.succeeded
    assert failed.usage_limit is None
    message = "You've hit your usage limit. Upgrade or try again at 6:45 PM."
    limited = feed(
        CodexProvider().reader(NOW),
        {"type": "thread.started", "thread_id": "T1"},
        {"type": "error", "message": message},
        {"type": "turn.failed", "error": {"message": message}},
    )
    assert limited.usage_limit is not None
    assert limited.usage_limit.resets_at == datetime(2026, 11, 29, 18, 45, tzinfo=UTC)
    assert not limited.succeeded


def test_claude_reports_the_runs_cost_turns_duration_and_tokens() -> None:
    outcome = feed(
        ClaudeProvider().reader(NOW),
        {"type": "system", "subtype": "init", "session_id": "S1"},
        {
            "type": "result", "subtype": "success", "is_error": False, "result": "done",
            "num_turns": 4, "total_cost_usd": 0.1234, "duration_ms": 65_000,
            "usage": {
                "input_tokens": 120, "output_tokens": 2400,
                "cache_creation_input_tokens": 9000, "cache_read_input_tokens": 45_000,
                "server_tool_use": {"web_search_requests": 0},
            },
        },
    )  # fmt: skip
    assert outcome.usage == Usage(
        cost_usd=0.1234, turns=4, duration_ms=65_000, input_tokens=120, output_tokens=2400,
        cache_creation_tokens=9000, cache_read_tokens=45_000,
    )  # fmt: skip
    # before its result line a run has reported nothing; odd values are not counts
    assert feed(ClaudeProvider().reader(NOW), {"type": "system", "subtype": "init"}).usage is None
    odd = feed(
        ClaudeProvider().reader(NOW),
        {"type": "result", "subtype": "success", "num_turns": True, "total_cost_usd": "1"},
    )
    assert odd.usage == Usage()


def test_codex_sums_the_tokens_of_its_turns_cached_ones_apart() -> None:
    outcome = feed(
        CodexProvider().reader(NOW),
        {"type": "thread.started", "thread_id": "T1"},
        {"type": "turn.completed", "usage": {"input_tokens": 1000, "cached_input_tokens": 600,
                                             "output_tokens": 50}},
        {"type": "turn.completed", "usage": {"input_tokens": 300, "cached_input_tokens": 0,
                                             "output_tokens": 20, "reasoning_output_tokens": 8}},
    )  # fmt: skip
    assert outcome.usage == Usage(
        cost_usd=None, turns=2, input_tokens=700, output_tokens=70, cache_read_tokens=600
    )
    assert feed(CodexProvider().reader(NOW), {"type": "thread.started"}).usage is None


def test_deeply_nested_output_is_skipped_like_any_line_that_is_not_an_event() -> None:
    nested = "[" * 100_000 + "]" * 100_000
    claude = feed(
        ClaudeProvider().reader(NOW),
        nested,
        {"type": "system", "subtype": "init", "session_id": "S1"},
        nested,
    )
    codex = feed(CodexProvider().reader(NOW), nested, {"type": "thread.started", "thread_id": "T1"})
    assert (claude.session_id, codex.session_id) == ("S1", "T1")
