"""Real git repositories for tests: an origin, the server's clone, agent worktrees.

Everything lives under one directory the fixture removes at the end.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

IDENTITY = ("-c", "user.name=Test Agent", "-c", "user.email=agent@test.invalid")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {done.stderr}")
    return done.stdout


def make_origin(root: Path, files: dict[str, str] | None = None) -> Path:
    """A repository on ``main`` with one commit of ``files`` (a README by default)."""
    origin = root / "origin"
    origin.mkdir(parents=True)
    git(origin, "init", "--quiet", "--initial-branch=main")
    for name, text in (files or {"README.md": "project\n"}).items():
        (origin / name).write_text(text)
    git(origin, "add", "--all")
    git(origin, "commit", "--quiet", "-m", "initial")
    return origin


@dataclass
class Project:
    """The server's clone of an origin and the initiative branch in it."""

    root: Path
    clone: Path
    initiative_branch: str

    def agent_worktree(self, name: str) -> tuple[Path, str]:
        """A worktree on a new agent branch started from the initiative branch (git
        cannot hold both ``cw/x`` and ``cw/x/name``, hence the dash)."""
        branch = f"{self.initiative_branch}--{name}"
        path = self.root / "agents" / name
        git(
            self.clone,
            "worktree",
            "add",
            "--quiet",
            "-b",
            branch,
            str(path),
            self.initiative_branch,
        )
        return path, branch

    def file_on(self, branch: str, name: str) -> str | None:
        done = subprocess.run(
            ["git", "show", f"{branch}:{name}"], cwd=self.clone, capture_output=True, text=True
        )
        return done.stdout if done.returncode == 0 else None

    def head(self, branch: str) -> str:
        return git(self.clone, "rev-parse", branch).strip()


def make_project(root: Path, initiative_branch: str = "cw/auth") -> Project:
    origin = make_origin(root)
    clone = root / "clone"
    git(root, "clone", "--quiet", str(origin), str(clone))
    git(clone, "branch", initiative_branch, "main")
    return Project(root, clone, initiative_branch)


def edit_in_the_index_tick(worktree: Path, name: str, text: str) -> None:
    """Change a tracked file to ``text`` of the same size in the clock tick its index
    entry was written in, as an agent editing right after a checkout does on a
    filesystem with coarse timestamps: the file's stat data still matches its entry,
    and only git's racy-entry check (the file is no older than the index) sees it."""
    path = worktree / name
    assert len(text.encode()) == path.stat().st_size, "the edit must keep the size"
    tick = path.stat().st_mtime_ns - 5_000_000_000  # well before now: not racy yet
    os.utime(path, ns=(tick, tick))
    git(worktree, "config", "core.trustCtime", "false")  # the edit's ctime is now
    git(worktree, "update-index", "--refresh")  # the entry records the tick, unsmudged
    path.write_text(text)
    os.utime(path, ns=(tick, tick))
    index = Path(
        git(worktree, "rev-parse", "--path-format=absolute", "--git-path", "index").strip()
    )
    os.utime(index, ns=(tick, tick))
