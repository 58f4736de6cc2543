"""Fakes of the runner's ports: worktrees as plain directories, processes the test
drives by hand (writing their output, ending them)."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crosswalk.runner.ports import (
    LaunchSpec,
    ProcessExit,
    ProcessHandle,
    ProjectSource,
    WorktreeState,
)


class FakeWorktrees:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.prepared: list[tuple[str, str]] = []
        self.added: list[tuple[Path, str, str]] = []
        self.removed: list[tuple[Path, bool]] = []
        self.restored: list[tuple[Path, str]] = []
        self.fail_with = fail_with

    def prepare(self, project: ProjectSource, initiative_branch: str) -> Path:
        if self.fail_with is not None:
            raise self.fail_with
        self.prepared.append((project.id, initiative_branch))
        return Path(f"/clones/{project.id}.git")

    def add(self, clone: Path, path: Path, branch: str, start: str) -> None:
        path.mkdir(parents=True)
        (path / ".git").write_text(f"gitdir: {clone}\n")  # what marks a worktree
        self.added.append((path, branch, start))

    def remove(self, path: Path, *, delete_branch: bool = False) -> None:
        self.removed.append((path, delete_branch))

    def listed(self, clone: Path) -> list[Path]:
        return [path for path, _, _ in self.added]

    def restore(self, clone: Path, path: Path, branch: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        path.mkdir(parents=True)
        (path / ".git").write_text(f"gitdir: {clone}\n")
        self.restored.append((path, branch))

    def state(self, path: Path) -> WorktreeState:
        """Every file below ``path`` (but the agent's private ones) counts as changed."""
        files = {
            str(found.relative_to(path)): found.read_text()
            for found in sorted(path.rglob("*"))
            if found.is_file() and not found.relative_to(path).parts[0].startswith(".")
        }
        return WorktreeState("HEAD", files)

    def changed_since(self, path: Path, before: WorktreeState) -> list[str]:
        after = self.state(path).files
        names = before.files.keys() | after.keys()
        return sorted(n for n in names if before.files.get(n) != after.get(n))


@dataclass
class FakeProcess:
    spec: LaunchSpec
    handle: ProcessHandle
    exit_code: int | None = None
    ended: bool = False
    signals: list[int] = field(default_factory=list)
    ignores_term: bool = False

    def write(self, *events: dict[str, Any] | str) -> None:
        with self.spec.stdout_path.open("a") as out:
            for event in events:
                out.write((event if isinstance(event, str) else json.dumps(event)) + "\n")

    def end(self, code: int | None) -> None:
        self.exit_code, self.ended = code, True

    @property
    def prompt(self) -> str:
        argv = list(self.spec.argv)
        return argv[argv.index("-p") + 1] if "-p" in argv else argv[-1]


class FakeProcesses:
    def __init__(self) -> None:
        self.launched: list[FakeProcess] = []
        self.by_pid: dict[int, FakeProcess] = {}
        self._next_pid = 1000
        self.fail_with: OSError | None = None

    def launch(self, spec: LaunchSpec) -> ProcessHandle:
        if self.fail_with is not None:
            raise self.fail_with
        self._next_pid += 1
        spec.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        spec.stdout_path.touch()
        handle = ProcessHandle(self._next_pid, 50_000 + self._next_pid, spec.exit_code_path)
        process = FakeProcess(spec, handle)
        self.launched.append(process)
        self.by_pid[handle.pid] = process
        return handle

    def adopt(self, pid: int, started_at: int, stdout: Path) -> FakeProcess:
        """A process this server did not start (one that ran before a restart)."""
        spec = LaunchSpec([], Path(), {}, stdout, stdout.with_suffix(".stderr"),
                          stdout.with_suffix(".exit"))  # fmt: skip
        process = FakeProcess(spec, ProcessHandle(pid, started_at, spec.exit_code_path))
        self.by_pid[pid] = process
        return process

    def poll(self, handle: ProcessHandle) -> ProcessExit | None:
        process = self.by_pid.get(handle.pid)
        if process is None or process.handle.started_at != handle.started_at:
            return ProcessExit(None)  # gone, or the pid now belongs to someone else
        return ProcessExit(process.exit_code) if process.ended else None

    def signal_group(self, handle: ProcessHandle, sig: int) -> None:
        process = self.by_pid.get(handle.pid)
        if process is None or process.ended or process.handle.started_at != handle.started_at:
            return
        process.signals.append(sig)
        if sig == signal.SIGKILL or not process.ignores_term:
            process.end(-sig)
