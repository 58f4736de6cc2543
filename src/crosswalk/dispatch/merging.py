"""Landing an agent's branch on the initiative branch, with git.

The merge happens in the server's clone of the project, in a worktree of its own
that has the initiative branch checked out (never in an agent's worktree):

1. whatever the agent left uncommitted in its worktree is committed on its branch,
   with a message naming the task and the agent;
2. the agent branch is merged (``--no-ff``) into the initiative branch;
3. a clean merge reports the merge commit; a conflict is aborted, so the
   initiative branch is exactly as before, and the conflicting files are reported.

With several servers (``share``) the project's own repository holds the initiative
branch they all land on: before merging, the initiative worktree takes in what the
project has (fast-forward, or a merge when this server has landings the project
lacks); after a clean merge the initiative branch is pushed there, never forced. A push
refused because another server landed first undoes this merge and does it again on
top of theirs, a few times at most.

``Merger`` is the port the services use; ``GitMerger`` runs the real ``git``.
Merges into one initiative worktree are serialised by a lock per worktree. Branches and
paths follow ``--``, so one that starts with ``-`` is never read as an option.
"""

from __future__ import annotations

import re
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError
from crosswalk.fsmodes import private_dir
from crosswalk.runner.git import clone_lock

#: Who crosswalk's own commits are by (the agent's commits keep their author).
COMMITTER = ("crosswalk", "crosswalk@localhost")
#: Merges redone on top of another server's landing before giving up.
PUSH_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class MergeRequest:
    clone: Path  # the server's clone of the project
    initiative_branch: str
    agent_branch: str
    agent_worktree: Path | None  # where leftovers are committed from; None: nothing to commit
    message: str  # the merge commit's message
    leftovers_message: str  # the message of the commit of uncommitted work
    base_branch: str | None = None  # creates the initiative branch from it when missing


@dataclass(frozen=True, slots=True)
class MergeResult:
    """``commit`` after a clean merge; ``conflicts`` (file paths) after an aborted one."""

    commit: str | None
    conflicts: tuple[str, ...] = ()
    leftovers_commit: str | None = None  # the commit of uncommitted work, if any

    @property
    def merged(self) -> bool:
        return self.commit is not None


class Merger(Protocol):
    def merge(self, request: MergeRequest) -> MergeResult: ...


class GitError(CrosswalkError):
    """A git command failed for a reason other than a merge conflict."""


def _slug(branch: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", branch).strip("-") or "branch"


@dataclass
class GitMerger:
    """Merges with the ``git`` executable; initiative worktrees live under ``root``."""

    root: Path
    git: str = "git"
    #: The initiative branch meets in the project's repository (several servers).
    share: bool = False
    _locks: dict[Path, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    def worktree_for(self, clone: Path, initiative_branch: str) -> Path:
        """Where the initiative branch of ``clone`` is checked out for merging."""
        return self.root / _slug(clone.name) / _slug(initiative_branch)

    def merge(self, request: MergeRequest) -> MergeResult:
        worktree = self.worktree_for(request.clone, request.initiative_branch)
        with self._lock(worktree):
            leftovers = None
            if request.agent_worktree is not None:
                leftovers = self.commit_leftovers(request.agent_worktree, request.leftovers_message)
            if not self.share:
                self._ensure_worktree(request, worktree)
                return self._merge_in(worktree, request, leftovers)
            with clone_lock(request.clone):  # fetches and worktrees of the clone take turns
                self._ensure_worktree(request, worktree)
                return self._merge_shared(worktree, request, leftovers)

    def _merge_shared(
        self, worktree: Path, request: MergeRequest, leftovers: str | None
    ) -> MergeResult:
        for _ in range(PUSH_ATTEMPTS):
            self._catch_up(worktree, request.initiative_branch)
            result = self._merge_in(worktree, request, leftovers)
            if not result.merged or self._pushed(worktree, request.initiative_branch):
                return result
            self._run(worktree, "reset", "--hard", "--quiet", "HEAD^1")
        raise GitError(
            f"the initiative branch '{request.initiative_branch}' could not be pushed to "
            f"the project: other servers kept landing first ({PUSH_ATTEMPTS} attempts)"
        )

    def _catch_up(self, worktree: Path, branch: str) -> None:
        """Take in what the project's copy of the initiative branch has, starting from a
        clean worktree (an earlier attempt may have left it mid-merge)."""
        self._run(worktree, "reset", "--hard", "--quiet", "HEAD")
        self._run(worktree, "fetch", "--quiet", "origin")
        remote = f"refs/remotes/origin/{branch}"
        if self._git(worktree, "rev-parse", "--verify", "--quiet", remote).returncode != 0:
            return
        if self._git(worktree, "merge", "--ff-only", "--quiet", remote).returncode == 0:
            return
        merged = self._git(
            worktree, *self._identity(), "merge", "--no-edit", "--quiet", "--", remote
        )
        if merged.returncode != 0:
            self._git(worktree, "merge", "--abort")
            raise GitError(
                f"the initiative branch '{branch}' here and in the project have diverged and "
                f"conflict: {merged.stdout.strip() or merged.stderr.strip()}"
            )

    def _pushed(self, worktree: Path, branch: str) -> bool:
        """Push the initiative branch (never forced); False when another server's
        landing got there first (the project's branch moved since the catch-up, whether
        git says rejected or lost the race for the ref's lock)."""
        ref = f"refs/heads/{branch}"
        remote = f"refs/remotes/origin/{branch}"
        before = self._git(worktree, "rev-parse", "--verify", "--quiet", remote).stdout.strip()
        done = self._git(worktree, "push", "--quiet", "origin", f"{ref}:{ref}")
        if done.returncode == 0:
            return True
        self._run(worktree, "fetch", "--quiet", "origin")
        after = self._git(worktree, "rev-parse", "--verify", "--quiet", remote).stdout.strip()
        if after != before:
            return False
        raise GitError(f"cannot push '{branch}' to the project: {done.stderr.strip()}")

    def _lock(self, worktree: Path) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(worktree, threading.Lock())

    def commit_leftovers(self, worktree: Path, message: str) -> str | None:
        """Commit whatever is uncommitted in ``worktree`` on its branch, as crosswalk;
        the commit, or None when there was nothing."""
        if not worktree.is_dir():
            return None
        if not self._run(worktree, "status", "--porcelain").strip():
            return None
        self._run(worktree, "add", "--all")
        self._run(worktree, *self._identity(), "commit", "--quiet", "--no-verify", "-m", message)
        return self._run(worktree, "rev-parse", "HEAD").strip()

    def _ensure_worktree(self, request: MergeRequest, worktree: Path) -> None:
        clone = request.clone
        if (worktree / ".git").exists():
            return
        branch = request.initiative_branch
        if not self._branch_exists(clone, branch):
            if request.base_branch is None:
                raise PreconditionFailedError(
                    f"the initiative branch '{branch}' does not exist in {clone.name}; "
                    "it is created when the first agent of the initiative starts"
                )
            self._run(clone, "branch", "--", branch, request.base_branch)
        private_dir(worktree.parent)
        self._run(clone, "worktree", "prune")
        self._run(clone, "worktree", "add", "--quiet", "--", str(worktree), branch)

    def _merge_in(
        self, worktree: Path, request: MergeRequest, leftovers: str | None
    ) -> MergeResult:
        if not self._branch_exists(worktree, request.agent_branch):
            raise PreconditionFailedError(
                f"the agent branch '{request.agent_branch}' does not exist; nothing can be merged"
            )
        before = self._run(worktree, "rev-parse", "HEAD").strip()
        merged = self._git(
            worktree,
            *self._identity(),
            "merge",
            "--no-ff",
            "--no-edit",
            "-m",
            request.message,
            "--",
            request.agent_branch,
        )
        if merged.returncode == 0:
            commit = self._run(worktree, "rev-parse", "HEAD").strip()
            return MergeResult(commit=commit, leftovers_commit=leftovers)
        conflicts = tuple(
            line
            for line in self._run(worktree, "diff", "--name-only", "--diff-filter=U").splitlines()
            if line
        )
        aborted = self._git(worktree, "merge", "--abort")
        if aborted.returncode != 0:
            self._run(worktree, "reset", "--hard", "--quiet", before)
        after = self._run(worktree, "rev-parse", "HEAD").strip()
        if after != before:  # never leave the initiative branch half-merged
            raise GitError(f"the initiative branch moved during an aborted merge: {after}")
        if not conflicts:
            raise GitError(f"git merge failed: {merged.stderr.strip() or merged.stdout.strip()}")
        return MergeResult(commit=None, conflicts=conflicts, leftovers_commit=leftovers)

    def _branch_exists(self, cwd: Path, branch: str) -> bool:
        return (
            self._git(cwd, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}").returncode
            == 0
        )

    def _identity(self) -> tuple[str, ...]:
        name, email = COMMITTER
        return ("-c", f"user.name={name}", "-c", f"user.email={email}")

    def _run(self, cwd: Path, *args: str) -> str:
        done = self._git(cwd, *args)
        if done.returncode != 0:
            raise GitError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip()}")
        return done.stdout

    def _git(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.git, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def commit_leftovers(worktree: Path, message: str) -> str | None:
    """``GitMerger.commit_leftovers`` for a caller with no merger at hand."""
    return GitMerger(root=worktree).commit_leftovers(worktree, message)
