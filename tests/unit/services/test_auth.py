"""Tokens and who may do what (docs/contract.md, Who may do what)."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from crosswalk.domain.errors import ForbiddenError, UnauthorizedError
from crosswalk.domain.events import Action, EntityChanged, Event
from crosswalk.domain.rows import Agent
from crosswalk.services.auth import (
    ADMIN,
    Authenticator,
    Principal,
    TokenCache,
    hash_token,
    load_or_create_admin_token,
    new_token,
)
from crosswalk.services.change_stream import ChangeStream
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


class CountingAgents(FakeAgents):
    """Counts the token lookups that reach the repository."""

    def __init__(self, *agents: Agent) -> None:
        super().__init__(*agents)
        self.lookups = 0

    def find_by_token_hash(self, token_hash: str) -> Agent | None:
        self.lookups += 1
        return super().find_by_token_hash(token_hash)


def _bob() -> tuple[Agent, str]:
    token = new_token()
    return replace(make_agent("bob"), token_hash=hash_token(token)), token


def test_a_token_is_read_from_the_database_once_while_its_agent_does_not_change() -> None:
    bob, token = _bob()
    agents = CountingAgents(bob)
    authenticator = Authenticator("cw_admin", agents)
    assert authenticator.known(f"Bearer {token}") is None
    for _ in range(3):
        assert authenticator.authenticate(f"Bearer {token}").agent == bob
    assert agents.lookups == 1
    assert authenticator.known(f"Bearer {token}") == Principal(agent_id="bob")
    assert authenticator.known("Bearer cw_admin") is ADMIN
    with pytest.raises(UnauthorizedError, match="Bearer <token>"):
        authenticator.known("Basic abc")


@pytest.mark.parametrize("action", [Action.UPDATED, Action.DELETED])
def test_a_change_to_the_agent_makes_its_token_be_read_again(action: Action) -> None:
    bob, token = _bob()
    agents = CountingAgents(bob)
    authenticator = Authenticator("cw_admin", agents)
    authenticator.authenticate(f"Bearer {token}")
    authenticator.cache.observe(EntityChanged("task", "bob", Action.UPDATED))  # not an agent
    authenticator.cache.observe(EntityChanged("agent", "alice", action))  # another agent
    assert authenticator.known(f"Bearer {token}") is not None

    del agents.rows["bob"]  # deleted, or its token rotated: the row no longer matches
    authenticator.cache.observe(EntityChanged("agent", "bob", action))

    assert authenticator.known(f"Bearer {token}") is None
    with pytest.raises(UnauthorizedError, match="not valid"):
        authenticator.authenticate(f"Bearer {token}")
    assert agents.lookups == 2


def test_a_gap_in_the_events_forgets_every_token() -> None:
    bob, token = _bob()
    authenticator = Authenticator("cw_admin", CountingAgents(bob))
    authenticator.authenticate(f"Bearer {token}")
    authenticator.cache.observe(None)
    assert authenticator.known(f"Bearer {token}") is None
    assert len(authenticator.cache) == 0


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    """The lookup read the row, then the agent changed before the read was stored: the
    row read may be the old one (a deleted agent's), so it is used once, not kept."""
    bob, token = _bob()
    cache = TokenCache()

    class ChangedDuringTheRead(CountingAgents):
        def find_by_token_hash(self, token_hash: str) -> Agent | None:
            found = super().find_by_token_hash(token_hash)
            cache.observe(EntityChanged("agent", "bob", Action.DELETED))
            return found

    authenticator = Authenticator("cw_admin", ChangedDuringTheRead(bob), cache)
    authenticator.authenticate(f"Bearer {token}")
    assert authenticator.known(f"Bearer {token}") is None


def test_an_agent_is_found_by_id_while_its_token_is_cached() -> None:
    bob, token = _bob()
    authenticator = Authenticator("cw_admin", CountingAgents(bob))
    cache = authenticator.cache
    assert cache.by_id("bob") is None
    authenticator.authenticate(f"Bearer {token}")
    assert cache.by_id("bob") == bob
    assert cache.by_id("alice") is None
    cache.observe(EntityChanged("agent", "bob", Action.UPDATED))  # renamed, say
    assert cache.by_id("bob") is None
    authenticator.authenticate(f"Bearer {token}")
    cache.observe(None)
    assert cache.by_id("bob") is None


def test_the_cache_keeps_the_most_recently_used_tokens() -> None:
    cache = TokenCache(capacity=2)
    rows = {name: replace(make_agent(name), token_hash=name) for name in ("a", "b", "c")}
    for name in ("a", "b"):
        cache.put(name, rows[name], cache.epoch())
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", rows["c"], cache.epoch())
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (rows["a"], None, rows["c"])
    cache.observe(EntityChanged("agent", "b", Action.DELETED))  # b already gone: harmless
    assert len(cache) == 2


def test_the_change_stream_hands_every_committed_event_and_every_gap_to_observers() -> None:
    seen: list[Event | None] = []
    stream = ChangeStream()
    stream.observe(seen.append)
    event = EntityChanged("agent", "bob", Action.UPDATED)
    stream.publish_committed([event])  # nobody waits, no loop: observers still see it
    stream.resync()
    assert seen == [event, None]
