"""Tokens and who may do what (docs/contract.md, Who may do what)."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from crosswalk.domain.errors import ForbiddenError, UnauthorizedError
from crosswalk.services.auth import (
    ADMIN,
    Authenticator,
    Principal,
    hash_token,
    load_or_create_admin_token,
    new_token,
)
from tests.unit.services.fakes import FakeAgents, make_agent


def test_admin_token_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / "admin-token"
    token = load_or_create_admin_token(path)
    assert token.startswith("cw_") and len(token) > 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_admin_token(path) == token


def test_a_loosened_admin_token_file_is_tightened_again(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    token = load_or_create_admin_token(path)
    path.chmod(0o644)
    assert load_or_create_admin_token(path) == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_empty_admin_token_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "admin-token"
    path.write_text("")
    assert load_or_create_admin_token(path).startswith("cw_")


def test_tokens_are_unique_and_only_their_hash_is_kept() -> None:
    first, second = new_token(), new_token()
    assert first != second
    assert hash_token(first) != first and len(hash_token(first)) == 64
    assert hash_token(first) == hash_token(first)


def test_authenticate_admin_agent_and_refusals() -> None:
    agent_token = new_token()
    bob = replace(make_agent("bob"), token_hash=hash_token(agent_token))
    authenticator = Authenticator("cw_admin", FakeAgents(bob))
    assert authenticator.authenticate("Bearer cw_admin") is ADMIN
    assert authenticator.authenticate(f"bearer {agent_token}") == Principal(agent_id="bob")
    for header, message in [
        (None, "missing credentials"),
        ("Basic abc", "Bearer <token>"),
        ("Bearer ", "Bearer <token>"),
        ("Bearer cw_wrong", "not valid"),
    ]:
        with pytest.raises(UnauthorizedError, match=message):
            authenticator.authenticate(header)


def test_an_agent_acts_only_as_itself() -> None:
    bob = Principal(agent_id="bob")
    bob.require_agent("bob")
    with pytest.raises(ForbiddenError, match="cannot act as 'alice'"):
        bob.require_agent("alice")
    with pytest.raises(ForbiddenError, match="not part of"):
        bob.require_any(("alice", "carol"), "conversation 'c1'")
    with pytest.raises(ForbiddenError, match="only the administrator"):
        bob.require_admin("create tasks")
    ADMIN.require_agent("anyone")
    ADMIN.require_admin("create tasks")
