"""The account repository, and its round-robin scheduling, against a real SQLite file."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from crosswalk.db.repositories.sqlalchemy.account import SqlAlchemyAccountRepository
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import Account, NewAccount, NewAgent

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyAccountRepository:
    return SqlAlchemyAccountRepository(engine)


@pytest.fixture
def trio(repo: SqlAlchemyAccountRepository) -> list[Account]:
    """Three claude accounts, created in an order that differs from their sort order."""
    c = repo.create(NewAccount("c@example.com", sort_order=2))
    a = repo.create(NewAccount("a@example.com", sort_order=0))
    b = repo.create(NewAccount("b@example.com", sort_order=1))
    return [a, b, c]


def emails(accounts: list[Account | None]) -> list[str | None]:
    return [None if account is None else account.email for account in accounts]


# --- CRUD ----------------------------------------------------------------------


def test_create_stores_the_account_with_defaults(repo: SqlAlchemyAccountRepository) -> None:
    account = repo.create(NewAccount("me@example.com", credentials='{"token":"x"}'))

    assert len(account.id) == 21
    assert (account.email, account.provider, account.credentials) == (
        "me@example.com",
        "claude",
        '{"token":"x"}',
    )
    assert account.is_exhausted is False
    assert account.exhausted_until is account.last_used_at is account.config_json is None
    assert account.sort_order == 0
    assert account.created_at == account.updated_at
    assert repo.get(account.id) == account


def test_finders_order_by_sort_order_then_creation(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    other = repo.create(NewAccount("x@example.com", provider="codex", sort_order=-1))

    assert repo.find_all() == [other, *trio]
    assert repo.find_by_provider("claude") == trio
    assert repo.find_by_provider("codex") == [other]
    assert repo.find_by_id("nope") is None


def test_list_page_by_provider_with_a_cursor(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    repo.create(NewAccount("x@example.com", provider="codex"))

    first = repo.list_page(provider="claude", limit=2)
    second = repo.list_page(provider="claude", limit=2, cursor=first.next_cursor)

    assert len(first.items) == 2
    assert second.next_cursor is None
    assert {a.id for a in first.items + second.items} == {a.id for a in trio}


def test_update_moves_updated_at_and_an_empty_update_changes_nothing(
    repo: SqlAlchemyAccountRepository,
) -> None:
    account = repo.create(NewAccount("me@example.com"))
    time.sleep(0.003)

    assert repo.update(account.id, {}) == account
    updated = repo.update(account.id, {"email": "new@example.com", "sort_order": 5})

    assert (updated.email, updated.sort_order) == ("new@example.com", 5)
    assert updated.updated_at > account.updated_at
    assert updated.created_at == account.created_at


def test_unknown_ids_are_not_found(repo: SqlAlchemyAccountRepository) -> None:
    for call in (
        lambda: repo.get("nope"),
        lambda: repo.update("nope", {"email": "x"}),
        lambda: repo.update("nope", {}),
        lambda: repo.mark_exhausted("nope", at(5)),
        lambda: repo.delete("nope"),
    ):
        with pytest.raises(NotFoundError, match="account 'nope' not found"):
            call()


def test_delete_detaches_the_agents_that_used_the_account(
    repo: SqlAlchemyAccountRepository, engine: Engine
) -> None:
    account = repo.create(NewAccount("me@example.com"))
    agents = SqlAlchemyAgentRepository(engine)
    users = [agents.create(NewAgent("/wt", account_id=account.id)) for _ in range(2)]
    bystander = agents.create(NewAgent("/wt"))

    assert repo.delete(account.id) == {"agentsDetached": 2}
    assert repo.find_by_id(account.id) is None
    assert all(agents.get(agent.id).account_id is None for agent in users)
    assert agents.get(bystander.id) == bystander


# --- round robin ---------------------------------------------------------------


def test_a_full_rotation_uses_never_used_accounts_in_sort_order_then_the_least_recent(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    picked = [repo.find_next_available("claude", at(minute)) for minute in range(7)]

    assert emails(picked) == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "a@example.com",
        "b@example.com",
        "c@example.com",
        "a@example.com",
    ]
    assert [account.last_used_at for account in picked if account] == [at(m) for m in range(7)]
    assert repo.get(trio[0].id).last_used_at == at(6)


def test_a_never_used_account_goes_before_any_used_one(
    repo: SqlAlchemyAccountRepository,
) -> None:
    used = repo.create(NewAccount("used@example.com", sort_order=0))
    repo.update(used.id, {"last_used_at": at(-1000)})
    fresh = repo.create(NewAccount("fresh@example.com", sort_order=9))

    assert repo.find_next_available("claude", at(0)) == repo.get(fresh.id)


def test_equal_sort_order_falls_back_to_creation_order(
    repo: SqlAlchemyAccountRepository,
) -> None:
    first = repo.create(NewAccount("first@example.com"))
    time.sleep(0.002)
    repo.create(NewAccount("second@example.com"))

    chosen = repo.find_next_available("claude", at(0))

    assert chosen is not None and chosen.id == first.id


def test_two_callers_in_a_row_get_different_accounts(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    first = repo.find_next_available("claude")
    second = repo.find_next_available("claude")

    assert first is not None and second is not None
    assert first.id != second.id


def test_simultaneous_callers_each_get_their_own_account(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    barrier = threading.Barrier(3)
    picked: list[str] = []

    def pick() -> None:
        barrier.wait()
        account = repo.find_next_available("claude", T0)
        assert account is not None
        picked.append(account.id)

    threads = [threading.Thread(target=pick) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(picked) == sorted(account.id for account in trio)


def test_only_the_requested_provider_is_considered(
    repo: SqlAlchemyAccountRepository,
) -> None:
    repo.create(NewAccount("codex@example.com", provider="codex"))

    assert repo.find_next_available("claude", at(0)) is None
    assert emails([repo.find_next_available("codex", at(0))]) == ["codex@example.com"]


def test_exhausted_accounts_are_skipped_until_none_is_left(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    a, b, c = trio
    marked = repo.mark_exhausted(b.id, at(60))
    assert marked.is_exhausted is True
    assert marked.exhausted_until == at(60)

    picked = [repo.find_next_available("claude", at(minute)) for minute in range(4)]
    assert emails(picked) == ["a@example.com", "c@example.com", "a@example.com", "c@example.com"]

    repo.mark_exhausted(a.id, at(60))
    repo.mark_exhausted(c.id, at(60))
    assert repo.find_next_available("claude", at(10)) is None
    assert repo.get(b.id).last_used_at is None


def test_an_account_whose_exhaustion_expired_is_available_again_and_cleared(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    for account in trio:
        repo.mark_exhausted(account.id, at(30 + account.sort_order))

    assert repo.find_next_available("claude", at(29)) is None
    chosen = repo.find_next_available("claude", at(30))

    assert chosen is not None
    assert chosen.email == "a@example.com"
    assert chosen.is_exhausted is False
    assert chosen.exhausted_until is None
    assert chosen.last_used_at == at(30)
    # b and c are still exhausted at minute 30: a is the only choice, used or not.
    assert emails([repo.find_next_available("claude", at(30))]) == ["a@example.com"]
    # At 31 b's exhaustion has expired too, and b was never used.
    assert emails([repo.find_next_available("claude", at(31))]) == ["b@example.com"]


def test_clear_expired_exhaustion_un_exhausts_only_the_expired(
    repo: SqlAlchemyAccountRepository, trio: list[Account]
) -> None:
    a, b, c = trio
    repo.mark_exhausted(a.id, at(10))
    repo.mark_exhausted(b.id, at(20))
    time.sleep(0.003)

    assert repo.clear_expired_exhaustion(at(15)) == [a.id]
    cleared, still = repo.get(a.id), repo.get(b.id)
    assert (cleared.is_exhausted, cleared.exhausted_until) == (False, None)
    assert cleared.updated_at > a.updated_at
    assert (still.is_exhausted, still.exhausted_until) == (True, at(20))
    assert repo.get(c.id) == c
    assert repo.clear_expired_exhaustion(at(15)) == []
    assert repo.clear_expired_exhaustion(at(20)) == [b.id]
    assert repo.get(b.id).is_exhausted is False
