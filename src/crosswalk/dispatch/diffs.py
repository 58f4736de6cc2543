"""What an agent changed, with git: the diff a person reviews before approving a merge.

Three places hold an agent's work on a project, and the diff is read from the first
that applies:

- ``merged``: its work was merged (the task is completed): the merge commit against
  its first parent, exactly what the merge brought into the initiative branch;
- ``worktree``: its worktree is still there: from the merge base of its branch and the
  initiative branch to everything in the worktree, committed or not, untracked files
  included (``.gitignore`` and ``info/exclude`` respected), which is what a merge
  would land (``merging`` commits the leftovers first). It is read through a copy of
  the worktree's index, so the agent's own index is never touched;
- ``branch``: the worktree was cleaned: from the merge base to the agent branch.

A patch larger than ``max_patch_bytes`` is cut at the last whole line before the cap:
the file it was cut in and every file after it say ``truncated``, and the counts of
every file are still given. Blocking: called in a worker thread.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from crosswalk.dispatch.index_copy import index_copy
from crosswalk.domain.errors import PreconditionFailedError

GIT_TIMEOUT_S = 120.0
#: The patch text kept at most, over all files of one project.
MAX_PATCH_BYTES = 512 * 1024
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
#: Nothing in a worktree an agent wrote to runs as a side effect of reading it.
_SAFE = ("-c", "core.fsmonitor=false", "-c", "diff.external=", "-c", "core.quotePath=false")
_STATUS = {
    "A": "added",
    "M": "modified",
    "D": "deleted",
    "R": "renamed",
    "C": "copied",
    "T": "type_changed",
    "U": "unmerged",
}


class DiffError(PreconditionFailedError):
    """The diff cannot be read (a branch or commit is gone); the message says which."""


@dataclass(frozen=True, slots=True)
class DiffRequest:
    clone: Path  # the server's clone of the project
    initiative_branch: str
    agent_branch: str
    worktree: Path | None  # None once cleaned
    merge_commit: str | None = None  # the commit that merged the work, once merged
    with_patch: bool = True
    max_patch_bytes: int = MAX_PATCH_BYTES


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    old_path: str | None  # where a renamed or copied file came from
    status: str  # added, modified, deleted, renamed, copied, type_changed
    additions: int | None  # None for a binary file
    deletions: int | None
    patch: str | None  # None without patches, or past the cap
    truncated: bool = False

    @property
    def binary(self) -> bool:
        return self.additions is None


@dataclass(frozen=True, slots=True)
class Diff:
    source: str  # merged, worktree or branch
    base: str  # the commit the changes are counted from
    head: str  # the commit they go to (the worktree's HEAD for a worktree diff)
    files: tuple[FileChange, ...]

    @property
    def truncated(self) -> bool:
        return any(change.truncated for change in self.files)


class GitDiffer:
    """Reads diffs with the ``git`` executable."""

    def __init__(self, git: str = "git") -> None:
        self._git_path = git

    def diff(self, request: DiffRequest) -> Diff:
        if request.merge_commit is not None and self._is_commit(
            request.clone, request.merge_commit
        ):
            head = request.merge_commit
            return self._between(request, "merged", f"{head}^1", head)
        if request.worktree is not None and (request.worktree / ".git").exists():
            return self._of_worktree(request, request.worktree)
        agent = f"refs/heads/{request.agent_branch}"
        if not self._is_commit(request.clone, agent):
            raise DiffError(
                f"the agent branch '{request.agent_branch}' and its worktree are both gone: "
                "there is nothing left to compare"
            )
        base = self._merge_base(request.clone, agent, request.initiative_branch)
        return self._between(request, "branch", base, agent)

    # --- the three sources --------------------------------------------------------

    def _between(self, request: DiffRequest, source: str, base: str, head: str) -> Diff:
        clone = request.clone
        base_sha = self._rev(clone, base)
        head_sha = self._rev(clone, head)
        files = self._changes(clone, request, (base_sha, head_sha), env=None)
        return Diff(source, base_sha, head_sha, files)

    def _of_worktree(self, request: DiffRequest, worktree: Path) -> Diff:
        base = self._merge_base(worktree, "HEAD", request.initiative_branch)
        head = self._rev(worktree, "HEAD")
        index = Path(
            self._git(
                worktree, "rev-parse", "--path-format=absolute", "--git-path", "index"
            ).stdout.strip()
        )
        with index_copy(index) as env:  # its stat data spares hashing unchanged files
            if not index.is_file():
                self._run(worktree, "read-tree", "HEAD", env=env)
            self._run(worktree, "add", "--all", env=env)
            files = self._changes(worktree, request, ("--cached", base), env=env)
        return Diff("worktree", base, head, files)

    # --- reading a diff ------------------------------------------------------------

    def _changes(
        self,
        cwd: Path,
        request: DiffRequest,
        revisions: tuple[str, ...],
        env: dict[str, str] | None,
    ) -> tuple[FileChange, ...]:
        options = ("diff", "--find-renames", "--no-color", "--no-ext-diff", *revisions)
        statuses = _name_status(self._run(cwd, *options, "--name-status", "-z", env=env))
        counts = _numstat(self._run(cwd, *options, "--numstat", "-z", env=env))
        if len(statuses) != len(counts):
            raise DiffError("git gave different file lists for one diff; try again")
        patches: list[str | None] = [None] * len(statuses)
        cut_from = len(statuses)
        if request.with_patch and statuses:
            text, complete = self._capped(cwd, (*options, "--patch"), env, request.max_patch_bytes)
            pieces = _per_file(text)
            patches[: len(pieces)] = pieces[: len(statuses)]
            if not complete:
                cut_from = max(len(pieces) - 1, 0)
                if pieces:  # the piece it was cut in ends at its last whole line
                    patches[cut_from] = _whole_lines(pieces[-1])
        return tuple(
            FileChange(
                path=path,
                old_path=old_path,
                status=status,
                additions=additions,
                deletions=deletions,
                patch=patches[index],
                truncated=index >= cut_from,
            )
            for index, ((status, path, old_path), (additions, deletions)) in enumerate(
                zip(statuses, counts, strict=True)
            )
        )

    def _capped(
        self, cwd: Path, args: tuple[str, ...], env: dict[str, str] | None, limit: int
    ) -> tuple[str, bool]:
        """git's stdout up to ``limit`` bytes, and whether that was all of it."""
        with subprocess.Popen(
            [self._git_path, *_SAFE, *args],
            cwd=cwd,
            env=self._env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        ) as process:
            assert process.stdout is not None
            data = process.stdout.read(limit + 1)
            complete = len(data) <= limit
            if not complete:
                process.kill()
            process.wait(timeout=GIT_TIMEOUT_S)
        return data[:limit].decode("utf-8", errors="replace"), complete

    # --- git -------------------------------------------------------------------------

    def _merge_base(self, cwd: Path, head: str, initiative_branch: str) -> str:
        branch = f"refs/heads/{initiative_branch}"
        if not self._is_commit(cwd, branch):
            raise DiffError(f"the initiative branch '{initiative_branch}' does not exist")
        done = self._git(cwd, "merge-base", head, branch)
        if done.returncode != 0:
            raise DiffError(
                f"the agent's work and the initiative branch '{initiative_branch}' share no history"
            )
        return done.stdout.strip()

    def _is_commit(self, cwd: Path, revision: str) -> bool:
        done = self._git(cwd, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
        return done.returncode == 0

    def _rev(self, cwd: Path, revision: str) -> str:
        return self._run(cwd, "rev-parse", "--verify", f"{revision}^{{commit}}").strip()

    def _run(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
        done = self._git(cwd, *args, env=env)
        if done.returncode != 0:
            raise DiffError(f"git {args[0]} failed in {cwd}: {done.stderr.strip()}")
        return done.stdout

    def _git(
        self, cwd: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self._git_path, *_SAFE, *args],
                cwd=cwd,
                env=self._env(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except FileNotFoundError:
            raise DiffError("git is not installed on the server (not found on its PATH)") from None
        except subprocess.TimeoutExpired:
            raise DiffError(f"git {args[0]} took longer than {GIT_TIMEOUT_S:g} s") from None

    @staticmethod
    def _env(extra: dict[str, str] | None) -> dict[str, str]:
        return {**os.environ, **_GIT_ENV, **(extra or {})}


def _name_status(out: str) -> list[tuple[str, str, str | None]]:
    """``--name-status -z``: (status, path, old path) per file, in diff order."""
    parts = out.split("\0")
    found: list[tuple[str, str, str | None]] = []
    at = 0
    while at < len(parts) and parts[at]:
        code = parts[at][0]
        if code in "RC":
            found.append((_STATUS[code], parts[at + 2], parts[at + 1]))
            at += 3
        else:
            found.append((_STATUS.get(code, "modified"), parts[at + 1], None))
            at += 2
    return found


def _numstat(out: str) -> list[tuple[int | None, int | None]]:
    """``--numstat -z``: (additions, deletions) per file, None for a binary file."""
    parts = out.split("\0")
    found: list[tuple[int | None, int | None]] = []
    at = 0
    while at < len(parts) and parts[at]:
        added, deleted, path = parts[at].split("\t", 2)
        at += 3 if path == "" else 1  # a rename: its old and new paths follow
        found.append(
            (None if added == "-" else int(added), None if deleted == "-" else int(deleted))
        )
    return found


def _per_file(patch: str) -> list[str]:
    """The patch split into one piece per file, in diff order."""
    pieces: list[str] = []
    for line in patch.splitlines(keepends=True):
        if line.startswith("diff --git ") or not pieces:
            pieces.append(line)
        else:
            pieces[-1] += line
    return pieces


def _whole_lines(piece: str) -> str:
    cut = piece.rfind("\n")
    return piece[: cut + 1] if cut >= 0 else ""
