"""GitChanges against real repositories: what an agent's work changes, read from its
worktree without touching it, whether two agents' work would merge, what a merge brought."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.git_repos import Project, edit_in_the_index_tick, git, make_project

from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.merging import GitMerger, MergeRequest
from crosswalk.dispatch.worktree_diff import GitChanges
from crosswalk.domain.rows import PathChange


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "repos"
    yield make_project(root)
    shutil.rmtree(root)


def work(project: Project, name: str) -> tuple[AgentWork, Path]:
    path, branch = project.agent_worktree(name)
    return AgentWork("api", project.clone, project.initiative_branch, branch, path), path


def test_committed_staged_unstaged_and_untracked_work_is_read_and_left_alone(
    project: Project,
) -> None:
    agent, path = work(project, "otter")
    (path / "committed.py").write_text("a\nb\n")
    git(path, "add", "committed.py")
    git(path, "commit", "--quiet", "-m", "agent commit")
    (path / "README.md").write_text("changed, not staged\n")
    (path / "staged.py").write_text("s\n")
    git(path, "add", "staged.py")
    (path / "new.py").write_text("1\n2\n3\n")
    status_before = git(path, "status", "--porcelain=v1")
    head_before = git(path, "rev-parse", "HEAD")

    read = GitChanges().unmerged(agent, "agent otter")

    assert read.changes == (
        PathChange("README.md", ((1, 1),)),
        PathChange("committed.py", ((1, 2),)),
        PathChange("new.py", ((1, 3),)),
        PathChange("staged.py", ((1, 1),)),
    )
    assert git(path, "status", "--porcelain=v1") == status_before  # its index untouched
    assert git(path, "rev-parse", "HEAD") == head_before
    assert read.snapshot is not None and read.snapshot != head_before.strip()
    assert git(path, "show", f"{read.snapshot}:new.py") == "1\n2\n3\n"


def test_an_edit_in_the_tick_of_the_checkout_is_seen(project: Project) -> None:
    agent, path = work(project, "otter")
    edit_in_the_index_tick(path, "README.md", "changed\n")

    read = GitChanges().unmerged(agent, "agent otter")

    assert read.changes == (PathChange("README.md", ((1, 1),)),)
    assert read.snapshot is not None
    assert git(path, "show", f"{read.snapshot}:README.md") == "changed\n"


def test_a_clean_worktree_is_its_head_and_a_cleaned_one_is_read_from_its_branch(
    project: Project,
) -> None:
    agent, path = work(project, "otter")
    changes = GitChanges()
    assert changes.unmerged(agent, "x").changes == ()
    (path / "a.txt").write_text("a\n")
    git(path, "add", "a.txt")
    git(path, "commit", "--quiet", "-m", "a")
    read = changes.unmerged(agent, "x")
    assert read.snapshot == git(path, "rev-parse", "HEAD").strip()
    (path / "loose.txt").write_text("not committed\n")
    gone = AgentWork("api", project.clone, project.initiative_branch, agent.agent_branch, None)
    assert changes.unmerged(gone, "x").changes == (PathChange("a.txt", ((1, 1),)),)
    nothing = AgentWork("api", project.clone, project.initiative_branch, "cw/none--x", None)
    assert changes.unmerged(nothing, "x").snapshot is None


def test_two_agents_work_conflicts_where_both_changed_the_same_lines(project: Project) -> None:
    alice, alice_path = work(project, "alice")
    bob, bob_path = work(project, "bob")
    carol, carol_path = work(project, "carol")
    (alice_path / "README.md").write_text("alice's\n")  # uncommitted
    (bob_path / "README.md").write_text("bob's\n")
    git(bob_path, "commit", "--quiet", "-am", "bob")
    (carol_path / "other.txt").write_text("carol's\n")
    changes = GitChanges()
    snaps = {
        name: changes.unmerged(agent, name).snapshot
        for name, agent in (("alice", alice), ("bob", bob), ("carol", carol))
    }
    assert all(snaps.values())
    assert changes.conflicts(project.clone, snaps["alice"] or "", snaps["bob"] or "") == (
        "README.md",
    )
    assert changes.conflicts(project.clone, snaps["alice"] or "", snaps["carol"] or "") is None


def test_what_a_merge_brought_to_the_initiative_branch(project: Project) -> None:
    agent, path = work(project, "otter")
    (path / "README.md").write_text("project\nmore\n")
    (path / "added.py").write_text("x\n")
    merged = GitMerger(root=project.root / "merges").merge(
        MergeRequest(
            clone=project.clone,
            initiative_branch=project.initiative_branch,
            agent_branch=agent.agent_branch,
            agent_worktree=path,
            message="merge",
            leftovers_message="leftovers",
        )
    )
    assert merged.commit is not None
    assert GitChanges().merged(project.clone, merged.commit) == [
        PathChange("README.md", ((2, 2),)),
        PathChange("added.py", ((1, 1),)),
    ]
    # merged: nothing of its work is unmerged any more
    assert GitChanges().unmerged(agent, "otter").changes == ()
