"""Migration 0005: ``pending_approval`` moves from "may start" to "may merge".

Rows are written with plain SQL at the revision before, then migrated, so the test
sees exactly what an existing database goes through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from crosswalk.db import migrate
from crosswalk.db.engine import create_database_engine

BEFORE = "0005_approval_gates_merge"  # the revision under test; "-1": the state before it


@pytest.fixture
def old_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, f"{BEFORE}-1")
    yield engine
    engine.dispose()


def _seed(engine: Engine) -> None:
    """One initiative requiring approval; tasks held under the old meaning, one of them
    already given an agent, one approved (pending) and one explicitly exempt."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO initiatives (id, name, merge_requires_approval, created_at, "
                "updated_at) VALUES ('i1', 'Init', 1, 0, 0)"
            )
        )
        for task_id, status, flag in (
            ("held", "pending_approval", None),
            ("held-started", "pending_approval", None),
            ("approved", "pending", None),
            ("exempt", "pending", 0),
        ):
            conn.execute(
                text(
                    "INSERT INTO tasks (id, initiative_id, name, status, requires_approval, "
                    "created_at, updated_at) VALUES (:id, 'i1', :id, :status, :flag, 0, 0)"
                ),
                {"id": task_id, "status": status, "flag": flag},
            )
        conn.execute(
            text(
                "INSERT INTO agents (id, name, task_id, worktree_id, created_at, updated_at) "
                "VALUES ('a1', 'otter', 'held-started', '.', 0, 0)"
            )
        )


def _statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {row[0]: row[1] for row in conn.execute(text("SELECT id, status FROM tasks"))}


def test_a_task_held_from_starting_becomes_pending_and_one_with_work_keeps_waiting(
    old_engine: Engine,
) -> None:
    _seed(old_engine)
    migrate.upgrade(old_engine, BEFORE)
    assert _statuses(old_engine) == {
        "held": "pending",  # never started: now it may, approval comes at the merge
        "held-started": "pending_approval",  # has an agent: its merge awaits a person
        "approved": "pending",
        "exempt": "pending",
    }


def test_downgrade_holds_unstarted_tasks_that_need_approval_again(old_engine: Engine) -> None:
    _seed(old_engine)
    migrate.upgrade(old_engine, BEFORE)
    migrate.downgrade(old_engine, f"{BEFORE}-1")
    assert _statuses(old_engine) == {
        "held": "pending_approval",
        "held-started": "pending_approval",
        "approved": "pending_approval",  # cannot tell an old approval from a new task
        "exempt": "pending",
    }


def test_abandoned_is_a_conversation_status_the_database_accepts(old_engine: Engine) -> None:
    _seed(old_engine)
    migrate.upgrade(old_engine, BEFORE)
    with old_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agents (id, name, worktree_id, created_at, updated_at) "
                "VALUES ('a2', 'badger', '.', 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO conversations (id, from_agent_id, to_agent_id, question, status, "
                "abandoned_reason, created_at, updated_at) "
                "VALUES ('c1', 'a2', 'a1', 'q?', 'abandoned', 'crashed', 0, 0)"
            )
        )
        with pytest.raises(Exception, match="CHECK constraint failed"):
            conn.execute(text("UPDATE conversations SET status = 'lost' WHERE id = 'c1'"))
    migrate.downgrade(old_engine, f"{BEFORE}-1")
    with old_engine.connect() as conn:
        row = conn.execute(text("SELECT status, answer FROM conversations")).one()
    assert tuple(row) == ("answered", "(no answer: crashed)")
