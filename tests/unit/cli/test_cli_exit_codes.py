"""How failures become exit codes and messages: one place, never a traceback."""

from __future__ import annotations

import pytest

from crosswalk import __version__
from crosswalk.cli.errors import (
    ConnectionLostError,
    RemoteError,
    RequestTimeoutError,
    UnreachableError,
)

from .cli_fakes import Cw, conversation


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert Cw()("--version").code == 0
    assert capsys.readouterr().out == f"cw {__version__}\n"


def test_success_is_0_and_closes_the_client() -> None:
    cw = Cw()
    cw.client.on("conversation.get", conversation())
    assert cw("conversation", "get", "c1").code == 0
    assert cw.client.closed


def test_no_client_is_built_for_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    cw = Cw()
    assert cw("ask", "--agent", "x").code == 2
    assert cw.factory_args == []
    assert "required: QUESTION|-" in capsys.readouterr().err


def test_settings_resolution_flag_over_environment() -> None:
    cw = Cw({"CW_URL": "http://env:1/trpc", "CW_TOKEN": "env-token"})
    cw.client.on("conversation.get", conversation())
    cw("conversation", "get", "c1")
    cw("--url", "http://flag:2/trpc", "--token", "flag-token", "conversation", "get", "c1")
    assert cw.factory_args == [
        ("http://env:1/trpc", "env-token"),
        ("http://flag:2/trpc", "flag-token"),
    ]


def test_default_url() -> None:
    cw = Cw()
    cw.client.on("conversation.get", conversation())
    cw("conversation", "get", "c1")
    assert cw.factory_args[0][0] == "http://127.0.0.1:7878/trpc"


def test_refusal_is_1_with_the_servers_message() -> None:
    cw = Cw()
    cw.client.on("conversation.get", RemoteError("NOT_FOUND", "conversation 'x' not found", 404))
    assert cw("conversation", "get", "x") == (1, "", "error: conversation 'x' not found\n")


def test_unauthorized_gets_a_hint_about_cw_token() -> None:
    cw = Cw()
    cw.client.on("conversation.get", RemoteError("UNAUTHORIZED", "no token", 401))
    result = cw("conversation", "get", "x")
    assert result.code == 1
    assert result.err.splitlines()[0] == "error: no token"
    assert result.err.splitlines()[1].startswith("hint: set CW_TOKEN (or pass --token)")


def test_forbidden_hint_mentions_identity() -> None:
    cw = Cw()
    cw.client.on("conversation.get", RemoteError("FORBIDDEN", "not yours", 403))
    assert "CW_AGENT_ID" in cw("conversation", "get", "x").err


def test_unknown_procedure_hint() -> None:
    cw = Cw()
    cw.client.on(
        "conversation.get", RemoteError("NOT_FOUND", 'No procedure found on path "x"', 404)
    )
    assert "older crosswalk" in cw("conversation", "get", "x").err


def test_unreachable_is_4_with_url_reason_and_advice() -> None:
    cw = Cw({"CW_URL": "http://127.0.0.1:9/trpc"})
    cw.client.on("conversation.get", UnreachableError("connection refused"))
    assert cw("conversation", "get", "x") == (
        4,
        "",
        "error: cannot reach the crosswalk server at http://127.0.0.1:9/trpc: connection "
        "refused; start it with 'cw serve' or set CW_URL\n",
    )


def test_connection_lost_is_unreachable_too() -> None:
    cw = Cw()
    cw.client.on("conversation.get", ConnectionLostError("gone"))
    assert cw("conversation", "get", "x").code == 4


def test_request_timeout_is_3() -> None:
    cw = Cw()
    cw.client.on("conversation.get", RequestTimeoutError("the server did not answer within 30 s"))
    assert cw("conversation", "get", "x") == (
        3,
        "",
        "error: the server did not answer within 30 s\n",
    )


def test_unexpected_exception_is_one_line_not_a_traceback() -> None:
    cw = Cw()
    cw.client.on("conversation.get", RuntimeError("kaboom"))
    result = cw("conversation", "get", "x")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert result.err.startswith("error: unexpected RuntimeError: kaboom\n")


def test_ctrl_c_is_130() -> None:
    cw = Cw()
    cw.client.on("conversation.get", KeyboardInterrupt())
    assert cw("conversation", "get", "x") == (130, "", "interrupted\n")


def test_invalid_url_is_a_usage_error() -> None:
    cw = Cw()

    def refuse(url: str, token: str | None) -> None:
        raise ValueError(f"invalid server URL {url!r}: expected http://HOST:PORT/trpc")

    cw._factory = refuse  # type: ignore[assignment,method-assign]
    result = cw("--url", "ftp://x", "conversation", "get", "x")
    assert result.code == 2
    assert "invalid server URL 'ftp://x'" in result.err
    assert "CW_URL" in result.err


def test_handler_usage_errors_show_the_commands_usage() -> None:
    result = Cw({"CW_AGENT_ID": ""})("listen")
    assert result.code == 2
    assert result.err.startswith("usage: cw listen ")
    assert "cw listen: error: no agent identity" in result.err
    assert "--as AGENT_ID or set CW_AGENT_ID" in result.err
