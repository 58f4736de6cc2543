"""The runner's ports: git worktrees and agent processes.

Both are blocking (they run git and read ``/proc``); the supervisor calls them off
the event loop. ``git.GitWorktrees`` and ``processes.OsProcesses`` are the real
adapters; the supervisor's tests use fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ProjectSource:
    """What the runner needs of a project to make worktrees of it."""

    id: str
    name: str
    url: str
    default_branch: str


class Worktrees(Protocol):
    def prepare(self, project: ProjectSource, initiative_branch: str) -> Path:
        """Clone the project into the data directory (once) and fetch; create the
        initiative branch from the default branch if it does not exist yet. Returns
        the clone. Raises ``PreconditionFailedError`` with git's message on failure."""
        ...

    def add(self, clone: Path, path: Path, branch: str, start: str) -> None:
        """A new worktree at ``path`` on a new branch ``branch`` started from ``start``."""
        ...

    def remove(self, path: Path, *, delete_branch: bool = False) -> None:
        """Remove the worktree at ``path`` (even with changes) and prune its clone;
        with ``delete_branch`` its branch goes too. Nothing to do if it is gone."""
        ...

    def listed(self, clone: Path) -> list[Path]:
        """Every worktree ``git worktree list`` shows for the clone (not the clone)."""
        ...


@dataclass(frozen=True, slots=True)
class LaunchSpec:
    argv: Sequence[str]
    cwd: Path
    env: Mapping[str, str]
    #: stdout is appended here (the agent's output file, JSONL).
    stdout_path: Path
    stderr_path: Path
    #: The exit code is written here when the process ends, so it is known even
    #: when the server was not running at that moment.
    exit_code_path: Path


@dataclass(frozen=True, slots=True)
class ProcessHandle:
    """A process, identified beyond its pid by when it started (a pid is reused)."""

    pid: int
    started_at: int
    exit_code_path: Path


@dataclass(frozen=True, slots=True)
class ProcessExit:
    #: The exit code; negative for a signal; None when it cannot be known.
    code: int | None


class Processes(Protocol):
    def launch(self, spec: LaunchSpec) -> ProcessHandle:
        """Start the process in its own process group. Raises ``OSError``."""
        ...

    def poll(self, handle: ProcessHandle) -> ProcessExit | None:
        """None while the process runs; how it ended once it has."""
        ...

    def signal_group(self, handle: ProcessHandle, signal: int) -> None:
        """Send ``signal`` to the process's group, if the process is still the same one."""
        ...
