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
