"""GitDiffer against real git repositories and worktrees: what a reviewer sees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.git_repos import (
    Project,
    edit_in_the_index_tick,
    git,
    make_origin,
    make_project,
)

from crosswalk.dispatch.diffs import DiffError, DiffRequest, FileChange, GitDiffer
from crosswalk.dispatch.merging import GitMerger, MergeRequest


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "repos"
    origin = make_origin(root, {"README.md": "project\n", "old.txt": "moved\n" * 20,
                                "gone.txt": "deleted\n", "logo.bin": "\x00\x01\x02"})  # fmt: skip
    clone = root / "clone"
    git(root, "clone", "--quiet", str(origin), str(clone))
    git(clone, "branch", "cw/auth", "main")
    yield Project(root, clone, "cw/auth")
    shutil.rmtree(root)


def request(project: Project, branch: str, worktree: Path | None, **extra: object) -> DiffRequest:
    return DiffRequest(
        clone=project.clone,
        initiative_branch=project.initiative_branch,
        agent_branch=branch,
        worktree=worktree,
        **extra,  # type: ignore[arg-type]
    )


def by_path(files: tuple[FileChange, ...]) -> dict[str, FileChange]:
    return {change.path: change for change in files}


def agent_at_work(project: Project) -> tuple[Path, str]:
    """An agent that committed one file and left the rest of its work uncommitted."""
    worktree, branch = project.agent_worktree("otter")
    (worktree / "committed.txt").write_text("by the agent\n")
    git(worktree, "add", "committed.txt")
    git(worktree, "commit", "--quiet", "-m", "agent commit")
    (worktree / "untracked.txt").write_text("new\nfile\n")
    (worktree / "README.md").write_text("project\nchanged, not staged\n")
    git(worktree, "mv", "old.txt", "new.txt")  # staged only
    (worktree / "gone.txt").unlink()
    (worktree / "logo.bin").write_bytes(b"\x00\x09\x08\x07")
    (worktree / ".gitignore").write_text("build/\n")
    (worktree / "build").mkdir()
    (worktree / "build" / "out.o").write_text("ignored\n")
    return worktree, branch


def test_a_worktree_diff_holds_commits_uncommitted_and_untracked_work(project: Project) -> None:
    worktree, branch = agent_at_work(project)
    # the initiative branch moved on since the agent started: those commits are not its work
    other, _ = project.agent_worktree("badger")
    (other / "theirs.txt").write_text("someone else's\n")
    git(other, "add", "theirs.txt")
    git(other, "commit", "--quiet", "-m", "theirs")
    git(
        project.clone,
        "branch",
        "-f",
        project.initiative_branch,
        f"{project.initiative_branch}--badger",
    )
    status_before = git(worktree, "status", "--porcelain")

    diff = GitDiffer().diff(request(project, branch, worktree))

    assert diff.source == "worktree"
    assert diff.head == git(worktree, "rev-parse", "HEAD").strip()
    assert diff.base == git(project.clone, "rev-parse", "main").strip()
    files = by_path(diff.files)
    assert set(files) == {
        "committed.txt", "untracked.txt", "README.md", "new.txt", "gone.txt", "logo.bin",
        ".gitignore",
    }  # fmt: skip
    assert (files["committed.txt"].status, files["committed.txt"].additions) == ("added", 1)
    assert (files["untracked.txt"].status, files["untracked.txt"].additions) == ("added", 2)
    readme = files["README.md"]
    assert (readme.status, readme.additions, readme.deletions) == ("modified", 1, 0)
    assert readme.patch is not None and "+changed, not staged\n" in readme.patch
    assert readme.patch.startswith("diff --git a/README.md b/README.md\n")
    assert (files["new.txt"].status, files["new.txt"].old_path) == ("renamed", "old.txt")
    assert (files["gone.txt"].status, files["gone.txt"].deletions) == ("deleted", 1)
    assert files["logo.bin"].binary and files["logo.bin"].patch is not None
    assert "Binary files" in files["logo.bin"].patch
    assert not diff.truncated
    # reading the diff left the agent's own index and worktree as they were
    assert git(worktree, "status", "--porcelain") == status_before


def test_an_edit_in_the_tick_of_the_checkout_is_in_the_diff(project: Project) -> None:
    worktree, branch = project.agent_worktree("otter")
    edit_in_the_index_tick(worktree, "README.md", "changed\n")

    diff = GitDiffer().diff(request(project, branch, worktree))

    assert [(f.path, f.status) for f in diff.files] == [("README.md", "modified")]


def test_without_patches_only_the_counts(project: Project) -> None:
    worktree, branch = agent_at_work(project)
    diff = GitDiffer().diff(request(project, branch, worktree, with_patch=False))
    assert all(change.patch is None and not change.truncated for change in diff.files)
    assert by_path(diff.files)["untracked.txt"].additions == 2


def test_a_cleaned_worktree_falls_back_to_the_branch_then_the_merge(project: Project) -> None:
    worktree, branch = agent_at_work(project)
    git(worktree, "add", "--all")
    git(worktree, "commit", "--quiet", "-m", "the rest")
    git(project.clone, "worktree", "remove", "--force", str(worktree))

    diff = GitDiffer().diff(request(project, branch, worktree))
    assert diff.source == "branch"
    assert diff.head == project.head(branch)
    assert "untracked.txt" in by_path(diff.files)

    merged = GitMerger(root=project.root / "merges").merge(
        MergeRequest(project.clone, project.initiative_branch, branch, None, "Merge", "left")
    )
    assert merged.commit is not None
    # once merged the branch has nothing the initiative lacks: the merge commit tells
    after = GitDiffer().diff(request(project, branch, None, merge_commit=merged.commit))
    assert after.source == "merged"
    assert set(by_path(after.files)) == set(by_path(diff.files))
    git(project.clone, "branch", "-D", branch)
    with pytest.raises(DiffError, match="are both gone"):
        GitDiffer().diff(request(project, branch, None))


def test_a_long_patch_is_cut_at_a_whole_line_and_says_from_which_file(tmp_path: Path) -> None:
    project = make_project(tmp_path / "repos")
    worktree, branch = project.agent_worktree("otter")
    for name in ("a.txt", "b.txt", "c.txt"):
        (worktree / name).write_text("".join(f"{name} line {n}\n" for n in range(200)))

    diff = GitDiffer().diff(request(project, branch, worktree, max_patch_bytes=5000))

    a, b, c = diff.files
    assert (a.path, a.truncated, b.truncated, c.truncated) == ("a.txt", False, True, True)
    assert a.patch is not None and a.patch.endswith("+a.txt line 199\n")
    assert b.patch is not None and b.patch.endswith("\n") and len(b.patch) < 5000
    assert c.patch is None
    assert (c.additions, c.deletions) == (200, 0)  # the counts are whole
    assert diff.truncated


def test_a_missing_initiative_branch_is_said(project: Project) -> None:
    worktree, branch = project.agent_worktree("otter")
    gone = DiffRequest(project.clone, "cw/never", branch, worktree)
    with pytest.raises(DiffError, match="initiative branch 'cw/never' does not exist"):
        GitDiffer().diff(gone)
