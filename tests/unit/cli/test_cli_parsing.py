"""Argument parsing: targets, global options before or after the command, value checks."""

from __future__ import annotations

import argparse

import pytest

from crosswalk.cli.main import build_parser


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def usage_error(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        parse(*argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_ask_targets_and_defaults() -> None:
    args = parse("ask", "--agent", "bob", "hello")
    assert (args.agent, args.task, args.phase, args.question) == ("bob", None, None, "hello")
    assert args.timeout == 600.0
    assert args.no_wait is False
    assert parse("ask", "--task", "T1", "-").task == "T1"
    assert parse("ask", "--phase", "P1", "--no-wait", "--timeout", "2.5", "q").timeout == 2.5


def test_ask_needs_exactly_one_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert "one of the arguments --agent --task --phase --file --user is required" in usage_error(
        "ask", "q", capsys=capsys
    )
    assert "not allowed with argument" in usage_error(
        "ask", "--agent", "a", "--task", "t", "q", capsys=capsys
    )


@pytest.mark.parametrize("value", ["-1", "abc", "nan", "inf"])
def test_timeout_must_be_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "--timeout" in usage_error("wait", "c1", "--timeout", value, capsys=capsys)


def test_global_options_work_before_and_after_the_command() -> None:
    before = parse("--json", "--url", "http://h:1/trpc", "--as", "me", "--token", "t", "wait", "c")
    after = parse(
        "wait", "c", "--json", "--url", "http://h:1/trpc", "--agent-id", "me", "--token", "t"
    )
    for args in (before, after):
        assert (args.json, args.url, args.agent_id, args.token) == (
            True,
            "http://h:1/trpc",
            "me",
            "t",
        )


def test_global_defaults_when_absent() -> None:
    args = parse("conversation", "get", "x")
    assert (args.json, args.url, args.agent_id, args.token) == (False, None, None, None)


def test_global_option_on_a_group_reaches_the_subcommand() -> None:
    assert parse("conversation", "--json", "list").json is True


def test_abbreviated_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "unrecognized arguments: --ag" in usage_error("listen", "--ag", "x", capsys=capsys)


def test_conversation_list_filters() -> None:
    args = parse(
        "conversation",
        "list",
        "--agent",
        "a",
        "--status",
        "answered",
        "--limit",
        "5",
        "--cursor",
        "c",
    )
    assert (args.agent, args.status, args.limit, args.cursor) == ("a", "answered", 5, "c")


def test_conversation_list_checks_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert "invalid choice" in usage_error(
        "conversation", "list", "--status", "open", capsys=capsys
    )
    assert "--limit" in usage_error("conversation", "list", "--limit", "0", capsys=capsys)


def test_a_group_needs_a_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert "required" in usage_error("conversation", capsys=capsys)
    assert "required" in usage_error(capsys=capsys)


def test_serve_options() -> None:
    args = parse("serve")
    assert (args.host, args.port, args.db) == ("127.0.0.1", 7878, None)
    args = parse("serve", "--host", "0.0.0.0", "--port", "9000", "--db", "sqlite:///x.db")
    assert (args.host, args.port, args.db) == ("0.0.0.0", 9000, "sqlite:///x.db")


def test_serve_rejects_bad_ports_and_client_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert "--port" in usage_error("serve", "--port", "70000", capsys=capsys)
    assert "unrecognized arguments: --json" in usage_error("serve", "--json", capsys=capsys)


def test_listen_follow_has_no_default_timeout() -> None:
    args = parse("listen", "--follow")
    assert (args.follow, args.timeout) == (True, None)


def test_a_question_starting_with_a_dash_after_double_dash() -> None:
    assert parse("ask", "--agent", "a", "--", "-x or -y?").question == "-x or -y?"
