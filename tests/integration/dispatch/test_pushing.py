"""GitPusher against real git: a bare repository as the project's URL, the server's bare
clone holding the initiative branch, and someone else pushing to the same branch."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.git_repos import git, make_origin

from crosswalk.dispatch.pushing import (
    DIVERGED,
    FAILED,
    NOTHING_YET,
    PUSHED,
    UP_TO_DATE,
    GitPusher,
    PushTarget,
)


@dataclass
class Remote:
    root: Path
    url: Path  # a bare repository: the project's URL
    clone: Path  # the server's bare clone of it, as the runner makes it

    def target(self, branch: str = "cw/auth") -> PushTarget:
        return PushTarget("p1", "api", str(self.url), self.clone, branch)

    def commit_on_clone(self, branch: str, name: str) -> str:
        """A commit on the clone's branch, as a merge would add (through a worktree)."""
        work = self.root / f"work-{name}"
        git(self.clone, "worktree", "add", "--quiet", str(work), branch)
        (work / name).write_text(f"{name}\n")
        git(work, "add", name)
        git(work, "commit", "--quiet", "-m", name)
        head = git(work, "rev-parse", "HEAD").strip()
        git(self.clone, "worktree", "remove", "--force", str(work))
        return head

    def remote_head(self, branch: str) -> str | None:
        listed = git(self.url, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}")
        return listed.strip() or None


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Remote]:
    root = tmp_path / "repos"
    seed = make_origin(root)
    url = root / "api.git"
    git(root, "clone", "--quiet", "--bare", str(seed), str(url))
    clone = root / "server" / "p1.git"
    git(root, "clone", "--quiet", "--bare", str(url), str(clone))
    git(clone, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
    git(clone, "branch", "cw/auth", "main")
    yield Remote(root, url, clone)
    shutil.rmtree(root)


def test_a_push_sends_the_branch_then_finds_it_up_to_date(remote: Remote) -> None:
    head = remote.commit_on_clone("cw/auth", "merged.txt")

    pushed = GitPusher().push(remote.target())
    assert (pushed.status, pushed.commit) == (PUSHED, head)
    assert remote.remote_head("cw/auth") == head
    assert pushed.message == f"pushed {head[:12]} to cw/auth at {remote.url} (project api)"

    again = GitPusher().push(remote.target())
    assert (again.status, again.commit) == (UP_TO_DATE, head)

    later = remote.commit_on_clone("cw/auth", "more.txt")
    assert GitPusher().push(remote.target()).status == PUSHED  # a fast-forward
    assert remote.remote_head("cw/auth") == later


def test_a_remote_branch_that_diverged_is_refused_and_left_alone(remote: Remote) -> None:
    remote.commit_on_clone("cw/auth", "merged.txt")
    GitPusher().push(remote.target())
    # someone else pushes to the same branch
    theirs = remote.root / "theirs"
    git(remote.root, "clone", "--quiet", "--branch", "cw/auth", str(remote.url), str(theirs))
    (theirs / "theirs.txt").write_text("by hand\n")
    git(theirs, "add", "theirs.txt")
    git(theirs, "commit", "--quiet", "-m", "by hand")
    git(theirs, "push", "--quiet", "origin", "cw/auth")
    their_head = remote.remote_head("cw/auth")
    remote.commit_on_clone("cw/auth", "next.txt")

    refused = GitPusher().push(remote.target())

    assert (refused.status, refused.commit) == (DIVERGED, None)
    assert "cw/auth" in refused.message and str(remote.url) in refused.message
    assert "diverged" in refused.message and "never force-pushes" in refused.message
    assert remote.remote_head("cw/auth") == their_head  # never forced


def test_nothing_to_push_before_the_first_agent_and_a_bad_url_says_why(remote: Remote) -> None:
    missing = GitPusher().push(remote.target("cw/never-started"))
    assert missing.status == NOTHING_YET
    assert "first agent starts" in missing.message
    gone = PushTarget("p1", "api", str(remote.root / "nowhere.git"), remote.clone, "cw/auth")
    failed = GitPusher().push(gone)
    assert failed.status == FAILED
    assert failed.message.startswith(f"cannot push to cw/auth at {remote.root / 'nowhere.git'}")
