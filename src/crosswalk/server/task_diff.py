"""The API shape of a task's diff (``task.diff``, and the dashboard's task page)."""

from __future__ import annotations

from typing import Any

from crosswalk.dispatch.diffs import MAX_PATCH_BYTES, FileChange
from crosswalk.dispatch.review import ProjectDiff, TaskDiff


def task_diff_to_api(found: TaskDiff) -> dict[str, Any]:
    projects = [_project(project) for project in found.projects]
    changes = [file for project in projects for file in project["files"]]
    agent = found.agent
    return {
        "taskId": found.task.id,
        "taskName": found.task.name,
        "taskStatus": found.task.status.value,
        "agent": None
        if agent is None
        else {"id": agent.id, "name": agent.name, "status": agent.status.value},
        "files": len(changes),
        "additions": sum(change["additions"] or 0 for change in changes),
        "deletions": sum(change["deletions"] or 0 for change in changes),
        "truncated": any(project["truncation"] for project in projects),
        "projects": projects,
    }


def _project(found: ProjectDiff) -> dict[str, Any]:
    work, diff = found.work, found.diff
    files = [] if diff is None else [_file(change) for change in diff.files]
    return {
        "project": work.project,
        "initiativeBranch": work.initiative_branch,
        "agentBranch": work.agent_branch,
        "worktree": None if work.worktree is None else str(work.worktree),
        "source": None if diff is None else diff.source,
        "base": None if diff is None else diff.base,
        "head": None if diff is None else diff.head,
        "error": found.error,
        "files": files,
        "truncation": _truncation(found) if diff is not None and diff.truncated else None,
    }


def _file(change: FileChange) -> dict[str, Any]:
    return {
        "path": change.path,
        "oldPath": change.old_path,
        "status": change.status,
        "additions": change.additions,
        "deletions": change.deletions,
        "binary": change.binary,
        "patch": change.patch,
        "truncated": change.truncated,
    }


def _truncation(found: ProjectDiff) -> str:
    """What was left out and where to see all of it."""
    assert found.diff is not None
    diff, work = found.diff, found.work
    first = next(change.path for change in diff.files if change.truncated)
    where = (
        f"in the worktree {work.worktree}: git status; git diff {diff.base}"
        if diff.source == "worktree"
        else f"in {work.clone}: git diff {diff.base} {diff.head}"
    )
    return (
        f"diff truncated: the patch is longer than {MAX_PATCH_BYTES // 1024} KB, so it is "
        f"cut from {first} on (every file's counts are complete); see all of it {where}"
    )
