"""The runner's ports: git worktrees, agent processes, and who hears how a run ended.

Both are blocking (they run git and read ``/proc``); the supervisor calls them off
the event loop. ``git.GitWorktrees`` and ``processes.OsProcesses`` are the real
adapters; the supervisor's tests use fakes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from crosswalk.domain.rows import Agent


@dataclass(frozen=True, slots=True)
class ProjectSource:
    """What the runner needs of a project to make worktrees of it."""

    id: str
    name: str
    url: str
    default_branch: str


@dataclass(frozen=True, slots=True)
class WorktreeState:
    """What a worktree holds beyond its commit: ``head`` and, for each path that differs
    from it (changed, added, deleted, untracked), a hash of its content ("" deleted)."""

    head: str
    files: Mapping[str, str]


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

    def restore(self, clone: Path, path: Path, branch: str) -> None:
        """A worktree at ``path`` again, on the existing ``branch`` (its directory was
        removed). Raises ``PreconditionFailedError`` with git's message on failure."""
        ...

    def state(self, path: Path) -> WorktreeState:
        """The worktree's commit and what differs from it."""
        ...

    def changed_since(self, path: Path, before: WorktreeState) -> list[str]:
        """The paths that changed in the worktree since ``before`` (committed or not),
        sorted."""
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


class RunEnds(Protocol):
    """Told how each run of an agent ended, after the agent's row says so (dispatch
    lands the work, or blocks the task and asks the person)."""

    async def run_succeeded(self, agent: Agent) -> object: ...

    async def run_failed(self, agent: Agent, reason: str) -> object: ...
