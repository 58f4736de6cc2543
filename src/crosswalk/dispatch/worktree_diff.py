"""What an agent's work changed, read with ``git`` (blocking: run in a worker thread).

An agent's work is its worktree as it is, committed or not. :meth:`GitChanges.unmerged`
takes a *snapshot* of it, a commit of the worktree's files (untracked ones included,
ignored ones not) written through a copy of the worktree's index, so the agent's own
index, branch and files are never touched, and diffs it against the point where the
agent's branch left the initiative branch. The snapshot is also what
:meth:`GitChanges.conflicts` merges (``git merge-tree``, in memory) with another agent's
to tell whether their work would merge cleanly. :meth:`GitChanges.merged` reads what a
merge brought to the initiative branch.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from crosswalk.dispatch.index_copy import index_copy
from crosswalk.dispatch.landing import AgentWork
from crosswalk.dispatch.merging import COMMITTER, GitError
from crosswalk.domain.rows import LineRanges, PathChange

GIT_TIMEOUT_S = 120.0
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_DIFF = ("diff", "--unified=0", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames")


@dataclass(frozen=True, slots=True)
class WorkRead:
    """An agent's work in one project: the snapshot commit (None: nothing to read) and
    the files it changes against the initiative branch."""

    snapshot: str | None
    changes: tuple[PathChange, ...] = ()


class GitChanges:
    def __init__(self, git: str = "git") -> None:
        self._git = git

    def unmerged(self, work: AgentWork, label: str) -> WorkRead:
        """What the agent's branch and worktree change against the initiative branch;
        ``label`` names the work in the snapshot's message."""
        worktree = work.worktree
        if worktree is not None and (worktree / ".git").exists():
            head = self._run(worktree, "rev-parse", "HEAD").strip()
            snapshot = self._snapshot(worktree, head, label)
            where = worktree
        elif not work.clone.is_dir():
            return WorkRead(None)  # not cloned here: another server's, or never started
        else:
            tip = self._try(work.clone, "rev-parse", "--verify", "--quiet", work.agent_branch)
            if tip is None:
                return WorkRead(None)
            snapshot, where = tip.strip(), work.clone
        base = self._try(where, "merge-base", work.initiative_branch, snapshot)
        if base is None:
            return WorkRead(snapshot)
        diff = self._run(where, *_DIFF, base.strip(), snapshot, "--")
        return WorkRead(snapshot, tuple(parse_diff(diff)))

    def merged(self, clone: Path, commit: str) -> list[PathChange]:
        """What merge ``commit`` brought to the branch it was made on."""
        return parse_diff(self._run(clone, *_DIFF, f"{commit}^1", commit, "--"))

    def conflicts(self, clone: Path, ours: str, theirs: str) -> tuple[str, ...] | None:
        """The files merging the two commits would conflict in; None when it merges
        cleanly. Nothing is written but objects (``git merge-tree --write-tree``)."""
        done = self._git_run(
            clone, "merge-tree", "--write-tree", "--name-only", "--no-messages", ours, theirs
        )
        if done.returncode == 0:
            return None
        if done.returncode != 1:
            raise GitError(f"git merge-tree failed in {clone}: {done.stderr.strip()}")
        lines = [line for line in done.stdout.splitlines()[1:] if line]
        return tuple(dict.fromkeys(_unquoted(line) for line in lines))

    def _snapshot(self, worktree: Path, head: str, label: str) -> str:
        """A commit of the worktree's files as they are, or ``head`` when they are
        exactly ``head``'s. Staged through a copy of the worktree's index."""
        index = Path(
            self._run(
                worktree, "rev-parse", "--path-format=absolute", "--git-path", "index"
            ).strip()
        )
        with index_copy(index) as env:
            self._run(worktree, "add", "--all", "--", ":/", env=env)
            tree = self._run(worktree, "write-tree", env=env).strip()
        if tree == self._run(worktree, "rev-parse", f"{head}^{{tree}}").strip():
            return head
        name, email = COMMITTER
        identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
        message = f"crosswalk: the worktree of {label} as it is (not on any branch)"
        return self._run(
            worktree, "commit-tree", tree, "-p", head, "-m", message, env=identity
        ).strip()

    def _run(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
        done = self._git_run(cwd, *args, env=env)
        if done.returncode != 0:
            raise GitError(f"git {args[0]} failed in {cwd}: {done.stderr.strip()}")
        return done.stdout

    def _try(self, cwd: Path, *args: str) -> str | None:
        done = self._git_run(cwd, *args)
        return done.stdout if done.returncode == 0 else None

    def _git_run(
        self, cwd: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        return subprocess.run(
            [self._git, "-c", "core.quotePath=false", *args],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=GIT_TIMEOUT_S,
            check=False,
        )


def parse_diff(text: str) -> list[PathChange]:
    """The files of a ``git diff --unified=0 --no-renames`` and the lines each change
    covers in the new version (a deletion: the line it happened at; a deleted or binary
    file: the whole file, no ranges)."""
    changes: list[PathChange] = []
    path: str | None = None
    lines: list[tuple[int, int]] = []
    old: str | None = None
    whole = False

    def flush() -> None:
        if path is not None:
            changes.append(PathChange(path, () if whole else _merged_ranges(lines)))

    for line in text.splitlines():
        if line.startswith("diff --git "):
            flush()
            path, lines, old, whole = _path_of_header(line[len("diff --git ") :]), [], None, False
        elif line.startswith("--- ") and path is not None and not lines:
            old = _side(line[4:], "a/")
        elif line.startswith("+++ ") and path is not None and not lines:
            new = _side(line[4:], "b/")
            if new is None:  # deleted
                whole = True
                path = old or path
            else:
                path = new
        elif line.startswith("Binary files ") and path is not None:
            whole = True
        elif line.startswith("@@") and path is not None:
            match = _HUNK.match(line)
            if match is not None:
                start = int(match.group(1))
                count = 1 if match.group(2) is None else int(match.group(2))
                if count == 0:  # lines removed after ``start``
                    lines.append((max(start, 1), max(start, 1)))
                else:
                    lines.append((start, start + count - 1))
    flush()
    return changes


def _merged_ranges(ranges: list[tuple[int, int]]) -> LineRanges:
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


def _side(text: str, prefix: str) -> str | None:
    name = _unquoted(text.rstrip("\t"))
    if name == "/dev/null":
        return None
    return name[len(prefix) :] if name.startswith(prefix) else name


def _path_of_header(rest: str) -> str:
    """The path of ``a/P b/P`` (without renames both sides name the same file)."""
    if rest.startswith('"'):
        first = _split_quoted(rest)
        return first[2:] if first.startswith("a/") else first
    half = (len(rest) - 1) // 2
    return rest[2:half] if rest.startswith("a/") else rest[:half]


def _split_quoted(text: str) -> str:
    end = 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return _unquoted(text[: end + 1])


_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquoted(text: str) -> str:
    """A path as git prints it, C-quoted when it holds special characters."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            octal = body[i + 1 : i + 4]
            if len(octal) == 3 and all(digit in "01234567" for digit in octal):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out += ch.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")
