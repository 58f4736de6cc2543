"""`cw logs show` renders agent output one readable line per event."""

from __future__ import annotations

import json

from crosswalk.cli.transcript import render_lines


def lines(*events: object) -> list[str]:
    text = "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events)
    return list(render_lines(text + "\n"))


def test_claude_stream_reads_as_text_tool_calls_and_results() -> None:
    rendered = lines(
        {"type": "system", "subtype": "init", "session_id": "S1", "model": "sonnet"},
        {"type": "assistant", "session_id": "S1", "message": {"content": [
            {"type": "text", "text": "Writing the file\nnow"},
            {"type": "tool_use", "name": "Bash", "input": {"command": "echo hi > a.txt"}},
        ]}},
        {"type": "user", "session_id": "S1", "message": {"content": [
            {"type": "tool_result", "content": [{"type": "text", "text": "ok"}]},
        ]}},
        {"type": "result", "subtype": "success", "is_error": False, "result": "done"},
    )  # fmt: skip
    assert rendered == [
        "session S1 started (sonnet)",
        "assistant: Writing the file now",
        "tool Bash: echo hi > a.txt",
        "tool result: ok",
        "result (success): done",
    ]


def test_codex_stream_reads_alike() -> None:
    rendered = lines(
        {"type": "thread.started", "thread_id": "T1"},
        {"type": "item.completed", "item": {
            "type": "command_execution", "command": "ls", "aggregated_output": "a\nb",
            "exit_code": 0}},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "listed"}},
        {"type": "turn.failed", "error": {"message": "boom"}},
    )  # fmt: skip
    assert rendered == [
        "thread T1 started",
        "tool exec: ls",
        "tool result (exit 0): a b",
        "assistant: listed",
        "turn failed: boom",
    ]


def test_unknown_lines_are_shown_as_they_are() -> None:
    assert lines("plain text", {"n": 1}) == ["plain text", '{"n": 1}']
    assert lines({"type": "assistant", "message": "odd"}) == []
