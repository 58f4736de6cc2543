"""Stopping a process group: SIGTERM, then SIGKILL if it has not ended in time."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from crosswalk.runner.ports import Processes, ProcessHandle

#: How long to wait for the group to end after SIGKILL before giving up on it.
KILL_WAIT_S = 10.0


async def terminate(
    processes: Processes,
    handle: ProcessHandle,
    ended: Callable[[], bool],
    *,
    grace_s: float,
    poll_s: float,
) -> bool:
    """SIGTERM the group; SIGKILL it if ``ended()`` is still false after ``grace_s``.
    Returns whether it ended."""
    processes.signal_group(handle, signal.SIGTERM)
    if await _until(ended, grace_s, poll_s):
        return True
    processes.signal_group(handle, signal.SIGKILL)
    return await _until(ended, KILL_WAIT_S, poll_s)


async def _until(ended: Callable[[], bool], timeout_s: float, poll_s: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not ended():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(poll_s)
    return True
