"""Human output (tables, detail views) and JSON output helpers."""

from __future__ import annotations

import json

from crosswalk.cli.output import Column, cell, detail, indent, table, to_json, truncate


def test_table_aligns_columns_without_trailing_spaces() -> None:
    rows: list[dict[str, object]] = [
        {"id": "a", "name": "first", "n": 1},
        {"id": "bbbb", "name": None, "n": 22},
    ]
    text = table(rows, [Column("id", "ID"), Column("name", "NAME"), "n"])
    assert text.splitlines() == [
        "ID    NAME   N",
        "a     first  1",
        "bbbb  -      22",
    ]


def test_table_truncates_and_flattens_cells() -> None:
    rows = [{"q": "line one\nline two that is long"}]
    text = table(rows, [Column("q", "Q", max_width=12)])
    assert text.splitlines()[1] == "line one li…"


def test_table_with_computed_column() -> None:
    text = table([{"a": 1, "b": 2}], [Column(lambda r: r["a"] + r["b"], "SUM")])
    assert text.splitlines() == ["SUM", "3"]


def test_cell_forms() -> None:
    assert cell(None) == "-"
    assert cell("") == "-"
    assert cell(True) == "yes"
    assert cell(False) == "no"
    assert cell({"a": [1]}) == '{"a":[1]}'
    assert cell("  spaced\tout \n") == "spaced out"


def test_truncate() -> None:
    assert truncate("abcdef", 4) == "abc…"
    assert truncate("abc", 4) == "abc"
    assert truncate("abc", None) == "abc"


def test_detail_aligns_labels_and_indents_blocks() -> None:
    obj = {"id": "c1", "status": "answered", "question": "why?\nreally?", "answer": None}
    text = detail(obj, [("id", "id"), ("status", "status")], [("question", "q"), ("answer", "a")])
    assert text.splitlines() == [
        "id:     c1",
        "status: answered",
        "q:",
        "  why?",
        "  really?",
        "a:",
        "  -",
    ]


def test_indent_keeps_blank_lines_blank() -> None:
    assert indent("a\n\nb") == "  a\n\n  b"


def test_json_is_one_document_or_one_line() -> None:
    value = {"q": "é", "n": [1, 2]}
    assert json.loads(to_json(value)) == value
    assert "\n" not in to_json(value, compact=True)
    assert "é" in to_json(value)


def test_control_characters_are_made_visible_newlines_and_tabs_kept() -> None:
    from crosswalk.cli.output import visible

    evil = "a\x1b[2J\x1b]0;title\x07b\r\x9b1m\u202egnp.exe\n\tnext"
    shown = visible(evil)
    assert shown == "a\\x1b[2J\\x1b]0;title\\x07b\\x0d\\x9b1m\\u202egnp.exe\n\tnext"
    assert visible("plain text, ünïcode ✓") == "plain text, ünïcode ✓"


def test_suggested_command_arguments_are_quoted_for_the_shell() -> None:
    from crosswalk.cli.output import command_arg

    assert command_arg("3cZyJ1k0Yp2vQ8dLmN4aB") == "3cZyJ1k0Yp2vQ8dLmN4aB"
    assert command_arg("has space") == "'has space'"
    assert command_arg("it's") == "'it'\\''s'"
    assert command_arg("-dash") == "-- -dash"
    assert command_arg("") == "''"


def test_agent_output_with_fields_left_out_or_null_never_prints_none() -> None:
    """What a CLI may omit or send as null (a rate limit without a reset time, a session
    without an id, a command still running) reads as prose, never as ``None``."""
    from crosswalk.cli.transcript import render_lines

    events = [
        {"type": "system", "subtype": "init", "session_id": None, "model": None},
        {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed"}},
        {"type": "rate_limit_event", "rate_limit_info": {"status": None, "resetsAt": None}},
        {"type": "assistant", "message": {"content": [{"type": "tool_use", "input": {}}]}},
        {"type": "thread.started"},
        {
            "type": "item.completed",
            "item": {"type": "command_execution", "command": "ls", "exit_code": None},
        },
    ]
    lines = list(render_lines("\n".join(json.dumps(event) for event in events)))

    assert lines == [
        "session started (model ?)",
        "rate limit: allowed",
        "rate limit: reported",
        "tool ?: {}",
        "thread started",
        "tool exec: ls",
        "tool result: ",
    ]
    assert not any("None" in line for line in lines)


def test_a_rate_limit_reset_reads_as_a_utc_time() -> None:
    from crosswalk.cli.transcript import render_lines

    event = {"type": "rate_limit_event", "rate_limit_info": {"status": "rejected", "resetsAt": 0}}
    assert list(render_lines(json.dumps(event))) == [
        "rate limit: rejected (resets at 1970-01-01 00:00 UTC)"
    ]


def test_initiative_status_names_an_agent_without_a_task_without_none() -> None:
    from crosswalk.cli.initiative_run import render_status

    text = render_status(
        {
            "id": "I1",
            "name": "Auth",
            "branch": "cw/auth",
            "dispatch": {"status": "off", "maxAgents": None},
            "tasks": {},
            "runningAgents": [{"id": "A1", "name": "bob", "taskId": None}],
            "openQuestions": [],
        }
    )
    assert "  bob (A1)\n" in text + "\n"
    assert "None" not in text
