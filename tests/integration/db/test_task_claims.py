"""Claiming a task is one conditional UPDATE: two dispatchers (here: two engines on
one SQLite file, as two servers would be) racing over the same tasks never claim a
task twice and never exceed the initiative's limit."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from crosswalk.db import Repositories, create_repositories
from crosswalk.db.engine import create_database_engine
from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.errors import RetryableError
from crosswalk.domain.rows import NewInitiative, NewTask, Task

pytestmark = pytest.mark.slow

LIMIT = 3
ROUNDS = 30


@pytest.fixture
def second_server(database_url: str, engine: Engine) -> Iterator[Repositories]:
    other = create_database_engine(database_url)
    yield create_repositories(other)
    other.dispose()


def test_racing_claimers_on_two_engines_claim_each_task_once_within_the_limit(
    repos: Repositories, second_server: Repositories
) -> None:
    initiative = repos.initiatives.create(NewInitiative("race"))
    for round_ in range(ROUNDS):
        tasks = [
            repos.tasks.create(NewTask(f"t{round_}-{n}", initiative_id=initiative.id))
            for n in range(6)
        ]
        claimed_ids = race(tasks, [repos, second_server])

        assert len(claimed_ids) == len(set(claimed_ids)), "a task was claimed twice"
        assert len(claimed_ids) == LIMIT
        in_progress = repos.tasks.list_page(
            initiative_id=initiative.id, status=TaskStatus.IN_PROGRESS, limit=100
        ).items
        assert sorted(t.id for t in in_progress) == sorted(claimed_ids)
        for task in in_progress:  # done: the next round starts from zero in progress
            repos.tasks.transition(task.id, TaskStatus.COMPLETED)


def race(tasks: list[Task], claimers: list[Repositories]) -> list[str]:
    """Four threads (two per engine, in opposite orders) claim every task at once."""
    won: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def claim_all(claimer: Repositories, order: list[Task]) -> None:
        start.wait()
        for task in order:
            claimed = claim(claimer, task)
            if claimed is not None:
                with lock:
                    won.append(claimed.id)

    threads = [
        threading.Thread(target=claim_all, args=(claimer, order))
        for claimer in claimers
        for order in (tasks, list(reversed(tasks)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return won


def claim(claimer: Repositories, task: Task, tries: int = 5) -> Task | None:
    """One claim, retried as its callers do when SQLite's busy timeout runs out under
    load (``RetryableError``): the race is about who wins, not about waiting."""
    for _ in range(tries - 1):
        with contextlib.suppress(RetryableError):
            return claimer.tasks.claim(task.id, max_in_progress=LIMIT)
    return claimer.tasks.claim(task.id, max_in_progress=LIMIT)
