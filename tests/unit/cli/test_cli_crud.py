"""Delete confirmations read as English: what went, and what went along."""

from __future__ import annotations

from crosswalk.cli._crud import deleted_line, describe_removed


def test_counts_are_worded_in_singular_and_plural() -> None:
    removed = {
        "tasks": 1,
        "taskDependencies": 2,
        "agentsDetached": 1,
        "replies": 1,
        "logChunksKept": 2,
        "phases": 0,
    }
    assert describe_removed(removed) == (
        "1 task, 2 task dependencies, 1 agent detached, 1 reply, 2 log chunks kept"
    )


def test_deleted_line_names_the_row_and_what_went_along() -> None:
    result = {"id": "p1", "deleted": {"name": "Backend"}, "removed": {"tasks": 3}}
    assert deleted_line("phase", result) == "deleted phase p1 (Backend); with it: 3 tasks"
    assert deleted_line("page", {"id": "x", "removed": {"pages": 0}}) == "deleted page x"
