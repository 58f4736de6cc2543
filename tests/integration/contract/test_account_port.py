"""The ``AccountRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import NewAccount

PAST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE = datetime(2999, 1, 1, tzinfo=UTC)
NOW = datetime(2500, 1, 1, tzinfo=UTC)


def test_round_robin_skips_exhausted_accounts(ports: Ports) -> None:
    accounts = ports.accounts
    second = accounts.create(NewAccount("b@example.com", sort_order=2))
    first = accounts.create(NewAccount("a@example.com", sort_order=1))
    accounts.create(NewAccount("c@example.com", provider="codex"))

    assert accounts.find_by_provider("claude") == [first, second]
    picked = accounts.find_next_available("claude", NOW)
    assert picked is not None and (picked.id, picked.last_used_at) == (first.id, NOW)
    following = accounts.find_next_available("claude", NOW)
    assert following is not None and following.id == second.id

    accounts.mark_exhausted(second.id, FUTURE)
    again = accounts.find_next_available("claude", NOW)
    assert again is not None and again.id == first.id
    accounts.mark_exhausted(first.id, FUTURE)
    assert accounts.find_next_available("claude", NOW) is None
    assert accounts.find_next_available("nobody", NOW) is None


def test_expired_exhaustion_is_cleared(ports: Ports) -> None:
    accounts = ports.accounts
    a, b, c = (accounts.create(NewAccount(f"{n}@example.com")) for n in "abc")
    accounts.mark_exhausted(a.id, PAST)
    accounts.mark_exhausted(b.id, FUTURE)

    assert accounts.clear_expired_exhaustion(NOW) == [a.id]
    cleared, still = accounts.get(a.id), accounts.get(b.id)
    assert (cleared.is_exhausted, cleared.exhausted_until) == (False, None)
    assert (still.is_exhausted, still.exhausted_until) == (True, FUTURE)
    assert accounts.get(c.id) == c
    assert accounts.clear_expired_exhaustion(NOW) == []

    accounts.update(c.id, {"email": "z@example.com"})
    assert accounts.list_page(limit=2).next_cursor is not None
    accounts.delete(c.id)
    with pytest.raises(NotFoundError, match=f"account '{c.id}' not found"):
        accounts.get(c.id)
