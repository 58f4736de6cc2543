"""The connection and thread counts a server on PostgreSQL takes from its environment."""

from __future__ import annotations

import os

import pytest

from crosswalk.db.engine import DEFAULT_POOL_SIZE, database_pool_size, database_threads
from crosswalk.domain.errors import InvalidInputError


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CW_DB_POOL_SIZE", raising=False)
    monkeypatch.delenv("CW_DB_THREADS", raising=False)


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def test_threads_default_to_twice_the_cpus_within_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert database_pool_size() == DEFAULT_POOL_SIZE
    assert database_threads() == min(DEFAULT_POOL_SIZE, 2 * _cpus())
    monkeypatch.setenv("CW_DB_POOL_SIZE", "1")
    assert database_threads() == 1  # never more threads than connections


def test_threads_on_a_machine_with_many_cpus_are_the_pool_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert database_threads() == DEFAULT_POOL_SIZE
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0})
    assert database_threads() == 2


def test_an_explicit_thread_count_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_DB_THREADS", "7")
    assert database_threads() == 7


@pytest.mark.parametrize("name", ["CW_DB_THREADS", "CW_DB_POOL_SIZE"])
@pytest.mark.parametrize("raw", ["0", "-2", "lots", ""])
def test_a_bad_count_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, raw: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(InvalidInputError, match=f"{name} must be a whole number"):
        database_threads()
