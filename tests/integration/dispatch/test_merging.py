"""GitMerger against real git repositories and worktrees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.git_repos import Project, git, make_project

from crosswalk.dispatch.merging import GitMerger, MergeRequest
from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "repos"
    yield make_project(root)
    shutil.rmtree(root)


@pytest.fixture
def merger(project: Project) -> GitMerger:
    return GitMerger(root=project.root / "merges")


def request(project: Project, branch: str, worktree: Path | None, task: str) -> MergeRequest:
    return MergeRequest(
        clone=project.clone,
        initiative_branch=project.initiative_branch,
        agent_branch=branch,
        agent_worktree=worktree,
        message=f"Merge task '{task}'",
        leftovers_message=f"Uncommitted work of task '{task}' by agent {branch}",
    )


def test_a_clean_merge_commits_leftovers_and_lands_everything(
    project: Project, merger: GitMerger
) -> None:
    worktree, branch = project.agent_worktree("otter")
    (worktree / "committed.txt").write_text("by the agent\n")
    git(worktree, "add", "committed.txt")
    git(worktree, "commit", "--quiet", "-m", "agent commit")
    (worktree / "left.txt").write_text("never committed\n")  # untracked
    (worktree / "README.md").write_text("changed, not staged\n")

    result = merger.merge(request(project, branch, worktree, "T1"))

    assert result.merged and result.conflicts == ()
    assert result.commit == project.head(project.initiative_branch)
    assert git(worktree, "status", "--porcelain") == ""  # leftovers committed on its branch
    assert result.leftovers_commit == project.head(branch)
    leftovers_message = git(project.clone, "log", "-1", "--format=%s", branch).strip()
    assert leftovers_message == f"Uncommitted work of task 'T1' by agent {branch}"
    for name, text in (
        ("committed.txt", "by the agent\n"),
        ("left.txt", "never committed\n"),
        ("README.md", "changed, not staged\n"),
    ):
        assert project.file_on(project.initiative_branch, name) == text
    parents = git(project.clone, "log", "-1", "--format=%P", result.commit).split()
    assert len(parents) == 2  # --no-ff: a merge commit even when a fast-forward would do
    assert git(project.clone, "log", "-1", "--format=%s", result.commit).strip() == (
        "Merge task 'T1'"
    )
    # the merge ran in the initiative's own worktree, not in the agent's
    merge_worktree = merger.worktree_for(project.clone, project.initiative_branch)
    assert git(merge_worktree, "branch", "--show-current").strip() == project.initiative_branch


def test_a_conflict_is_aborted_reported_and_leaves_the_initiative_branch_untouched(
    project: Project, merger: GitMerger
) -> None:
    first, first_branch = project.agent_worktree("otter")
    second, second_branch = project.agent_worktree("badger")
    (first / "README.md").write_text("otter's readme\n")
    (second / "README.md").write_text("badger's readme\n")
    (second / "own.txt").write_text("no conflict here\n")

    assert merger.merge(request(project, first_branch, first, "T1")).merged
    before = project.head(project.initiative_branch)

    result = merger.merge(request(project, second_branch, second, "T2"))

    assert not result.merged and result.commit is None
    assert result.conflicts == ("README.md",)
    assert project.head(project.initiative_branch) == before
    merge_worktree = merger.worktree_for(project.clone, project.initiative_branch)
    assert git(merge_worktree, "status", "--porcelain") == ""  # no half-merge left
    assert project.file_on(project.initiative_branch, "README.md") == "otter's readme\n"
    assert project.file_on(project.initiative_branch, "own.txt") is None

    # someone fixes the agent branch; the retry merges cleanly
    git(second, "merge", "--quiet", "-X", "ours", project.initiative_branch)
    retried = merger.merge(request(project, second_branch, second, "T2"))
    assert retried.merged
    assert project.file_on(project.initiative_branch, "README.md") == "badger's readme\n"
    assert project.file_on(project.initiative_branch, "own.txt") == "no conflict here\n"


def test_a_missing_agent_branch_or_initiative_branch_is_a_clear_error(
    project: Project, merger: GitMerger
) -> None:
    with pytest.raises(PreconditionFailedError, match="agent branch 'cw/auth--ghost'"):
        merger.merge(request(project, "cw/auth--ghost", None, "T1"))
    missing = MergeRequest(
        clone=project.clone,
        initiative_branch="cw/other",
        agent_branch="main",
        agent_worktree=None,
        message="m",
        leftovers_message="l",
    )
    with pytest.raises(PreconditionFailedError, match="initiative branch 'cw/other'"):
        merger.merge(missing)
    created = merger.merge(replace(missing, base_branch="main"))
    assert created.merged
    assert project.head("cw/other") == created.commit


def test_branches_reach_git_as_names_never_as_options(project: Project, merger: GitMerger) -> None:
    """Names an older version stored unchecked are told apart from git's options."""
    worktree, branch = project.agent_worktree("badger")
    (worktree / "work.txt").write_text("work\n")
    git(worktree, "add", "--all")
    git(worktree, "commit", "--quiet", "-m", "work")
    git(project.clone, "update-ref", "refs/heads/-x", project.head(branch))
    landed = merger.merge(request(project, "-x", None, "T1"))
    assert landed.merged
    assert project.file_on(project.initiative_branch, "work.txt") == "work\n"

    orphan = replace(request(project, "main", None, "T2"), initiative_branch="--orphan")
    with pytest.raises(CrosswalkError, match="'--orphan' is not a valid branch name"):
        merger.merge(replace(orphan, base_branch="main"))
