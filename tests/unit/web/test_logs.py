"""Agents' raw logs (Claude Code stream-json, Codex JSONL) as readable entries."""

from __future__ import annotations

import json
from typing import Any

from crosswalk.server.web.logs import MAX_SHOWN, LogEntry, render


def lines(*events: Any) -> str:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events)


def test_claude_text_tool_calls_results_and_the_final_result() -> None:
    log = lines(
        {"type": "system", "subtype": "init", "session_id": "s"},
        {
            "type": "assistant",
            "message": {
                "content": [
                    {"type": "text", "text": "Running the tests."},
                    {"type": "tool_use", "name": "Bash", "input": {"command": "pytest -q"}},
                ]
            },
        },
        {"type": "user", "message": {"content": [{"type": "tool_result", "content": "3 passed"}]}},
        {
            "type": "result",
            "is_error": False,
            "result": "Done.",
            "num_turns": 4,
            "total_cost_usd": 0.25,
        },
    )
    assert render([log]) == [
        LogEntry("text", "Running the tests."),
        LogEntry("tool", '{"command": "pytest -q"}', "Bash"),
        LogEntry("result", "3 passed"),
        LogEntry("done", "Done.", "finished (4 turns, $0.2500)"),
    ]


def test_a_line_split_across_chunks_is_joined_and_non_json_is_kept_raw() -> None:
    event = json.dumps({"type": "assistant", "message": {"content": "hello"}})
    chunks = [event[:10], event[10:] + "\nnot json at all\n"]
    assert render(chunks) == [LogEntry("text", "hello"), LogEntry("raw", "not json at all")]


def test_codex_commands_messages_and_failures() -> None:
    log = lines(
        {"type": "thread.started", "thread_id": "t"},
        {"type": "item.started", "item": {"type": "command_execution", "command": "ls"}},
        {
            "type": "item.completed",
            "item": {"type": "command_execution", "aggregated_output": "a.py", "exit_code": 0},
        },
        {"type": "item.completed", "item": {"type": "agent_message", "text": "Listed."}},
        {"type": "turn.failed", "error": {"message": "usage limit"}},
    )
    assert render([log]) == [
        LogEntry("tool", "ls", "command"),
        LogEntry("result", "a.py", "exit 0"),
        LogEntry("text", "Listed."),
        LogEntry("error", "usage limit"),
    ]


def test_long_output_is_shortened() -> None:
    [entry] = render([lines({"type": "assistant", "message": {"content": "x" * 5000}})])
    assert len(entry.text) == MAX_SHOWN + 2
    assert entry.text.endswith(" …")


def test_each_session_opens_with_a_divider_and_a_line_never_spans_two() -> None:
    from crosswalk.server.web.logs import render_sessions

    first = lines({"type": "assistant", "message": {"content": "first run"}})
    cut = json.dumps({"type": "assistant", "message": {"content": "second run"}})
    entries = render_sessions([(1, first), (2, cut[:10]), (2, cut[10:] + "\n"), (3, "plain\n")])

    assert entries == [
        LogEntry("session", "", "Session 1"),
        LogEntry("text", "first run"),
        LogEntry("session", "", "Session 2"),
        LogEntry("text", "second run"),
        LogEntry("session", "", "Session 3"),
        LogEntry("raw", "plain"),
    ]


def test_the_newest_entries_keep_the_divider_of_the_session_they_belong_to() -> None:
    from crosswalk.server.web.logs import newest, render_sessions

    entries = render_sessions([(1, "a\n"), (2, "b\nc\nd\n")])

    assert newest(entries, 2) == [
        LogEntry("session", "", "Session 2"),
        LogEntry("raw", "c"),
        LogEntry("raw", "d"),
    ]
    assert newest(entries, 4) == entries[-4:]  # starts at its divider already
    assert newest(entries, 10) == entries


def test_a_line_nested_too_deep_to_parse_is_kept_raw() -> None:
    deep = "[" * 50_000 + "]" * 50_000
    [entry] = render([deep + "\n"])
    assert entry.kind == "raw"
