"""Agent processes on this machine: each in its own process group (a new session),
stdout appended to its output file, identified by pid and start time.

Every agent is started through a tiny ``sh`` wrapper that writes the exit code to a
file when the agent ends: a process that ends while the server is down (or that
the server adopted after a restart, so it is not its child) still has its exit
code recorded.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

from crosswalk.fsmodes import open_private_append, private_dir
from crosswalk.runner.output import ForeignFileError, open_run_file
from crosswalk.runner.ports import LaunchSpec, ProcessExit, ProcessHandle

# The umask is set after the agent's CLI ended, so the exit file is 0600 like the other
# run files while the files the agent makes keep the umask the person chose.
_WRAPPER = (
    'exit_file=$1; shift; "$@"; code=$?; umask 077; '
    'echo "$code" > "$exit_file.tmp" && mv "$exit_file.tmp" "$exit_file"; exit "$code"'
)


def process_start_time(pid: int) -> int | None:
    """Field 22 of ``/proc/<pid>/stat`` (clock ticks after boot); None if the process
    is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain anything.
    fields = stat[stat.rfind(")") + 2 :].split()
    if not fields or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def read_exit_code(path: Path) -> int | None:
    """The code the wrapper wrote, or None: none yet, unreadable, or not the runner's
    own file (a symbolic link is not followed)."""
    try:
        with open_run_file(path) as handle:
            return int(handle.read(64).strip())
    except (OSError, ValueError, ForeignFileError):
        return None


class OsProcesses:
    def __init__(self) -> None:
        #: Processes this server started (its children), so their status is reaped.
        self._children: dict[int, subprocess.Popen[bytes]] = {}

    def launch(self, spec: LaunchSpec) -> ProcessHandle:
        private_dir(spec.stdout_path.parent)
        spec.exit_code_path.unlink(missing_ok=True)
        with (
            open_private_append(spec.stdout_path) as out,
            open_private_append(spec.stderr_path) as err,
        ):
            process = subprocess.Popen(
                ["/bin/sh", "-c", _WRAPPER, "cw-agent", str(spec.exit_code_path), *spec.argv],
                cwd=spec.cwd,
                env=dict(spec.env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        started_at = process_start_time(process.pid)
        self._children[process.pid] = process
        if started_at is None:  # ended already; still ours to reap
            started_at = -1
        return ProcessHandle(process.pid, started_at, spec.exit_code_path)

    def is_alive(self, handle: ProcessHandle) -> bool:
        child = self._children.get(handle.pid)
        if child is not None:
            return child.poll() is None
        return process_start_time(handle.pid) == handle.started_at

    def poll(self, handle: ProcessHandle) -> ProcessExit | None:
        child = self._children.get(handle.pid)
        if child is not None:
            returncode = child.poll()
            if returncode is None:
                return None
            del self._children[handle.pid]
            recorded = read_exit_code(handle.exit_code_path)
            return ProcessExit(recorded if recorded is not None else returncode)
        if process_start_time(handle.pid) == handle.started_at:
            return None
        return ProcessExit(read_exit_code(handle.exit_code_path))

    def signal_group(self, handle: ProcessHandle, sig: int) -> None:
        if not self.is_alive(handle):
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(handle.pid, sig)


__all__ = ["OsProcesses", "process_start_time", "read_exit_code"]
