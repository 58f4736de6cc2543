"""Reading a login for ``cw account import``: where each CLI keeps it, whose it is."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from crosswalk.cli.account_import import read_claude, read_codex
from crosswalk.cli.errors import UsageError


def token(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"e30.{body}.sig"


def test_claude_config_dir_holds_both_files_and_the_email(tmp_path: Path) -> None:
    (tmp_path / ".credentials.json").write_text('{"claudeAiOauth": {"accessToken": "a"}}')
    (tmp_path / ".claude.json").write_text(
        json.dumps({"oauthAccount": {"emailAddress": "a@example.com"}, "projects": {"/x": {}}})
    )
    login = read_claude(None, {"CLAUDE_CONFIG_DIR": str(tmp_path), "HOME": "/nowhere"})
    assert (login.email, login.directory) == ("a@example.com", tmp_path)
    assert json.loads(login.config or "") == {"oauthAccount": {"emailAddress": "a@example.com"}}


def test_codex_email_from_the_profile_claim_and_config_kept_as_text(tmp_path: Path) -> None:
    profile = {"https://api.openai.com/profile": {"email": "b@example.com"}}
    (tmp_path / "auth.json").write_text(json.dumps({"tokens": {"id_token": token(profile)}}))
    (tmp_path / "config.toml").write_text('model = "o4"\n')
    login = read_codex(str(tmp_path), {})
    assert login.email == "b@example.com"
    assert json.loads(login.config or "") == 'model = "o4"\n'


def test_an_unreadable_token_names_nobody_rather_than_failing(tmp_path: Path) -> None:
    (tmp_path / "auth.json").write_text(json.dumps({"tokens": {"id_token": "a.!!!.c"}}))
    assert read_codex(str(tmp_path), {}).email is None


def test_a_json_file_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".credentials.json").write_text("[]")
    with pytest.raises(UsageError, match=r"is not a JSON object as Claude Code writes it"):
        read_claude(str(tmp_path), {})
