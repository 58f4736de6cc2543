"""The runner's settings: the part of ``ServerSettings`` (``crosswalk.server.settings``)
the runner uses, with what ``cw serve`` adds from its flags."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crosswalk.config import DEFAULT_URL
from crosswalk.domain.rows import Agent

DEFAULT_MAX_ANSWERING = 4
DEFAULT_ANSWER_TIMEOUT_S = 600.0
DEFAULT_STOP_GRACE_S = 10.0
DEFAULT_SERVER_LEASE_S = 30.0
#: Memory one agent's CLI takes, for the default ``CW_MAX_AGENTS``.
AGENT_MEMORY_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    #: Where clones, worktrees, output files and account config directories live.
    data_dir: Path
    #: The URL agents reach this server at (``CW_URL`` in their environment).
    server_url: str = DEFAULT_URL
    #: This server's name in a deployment (``agents.server_id`` of what it runs): on
    #: start it reconciles only its own agents, never another live server's.
    server_id: str | None = None
    #: Provider name to the executable to run (default: its name, looked up on PATH).
    executables: Mapping[str, str] = field(default_factory=dict)
    #: Provider name to its permission mode (Claude) or sandbox (Codex).
    permission_modes: Mapping[str, str] = field(default_factory=dict)
    #: Seconds between SIGTERM and SIGKILL on ``agent.stop``.
    stop_grace_s: float = DEFAULT_STOP_GRACE_S
    #: How often a running agent's output file is read.
    poll_interval_s: float = 0.2
    #: Stop every running agent when the server stops (``cw serve --stop-agents``).
    stop_agents_on_exit: bool = False
    #: The environment agents start from: the server's own, without crosswalk's
    #: client and server settings (``ServerSettings.runner`` makes it).
    base_env: Mapping[str, str] = field(default_factory=dict)
    #: Answering runs (idle agents resumed to answer) at once; more wait their turn.
    max_answering: int = DEFAULT_MAX_ANSWERING
    #: Seconds an answering run may take before it is stopped.
    answer_timeout_s: float = DEFAULT_ANSWER_TIMEOUT_S
    #: Agents this server may run at once (``CW_MAX_AGENTS``): dispatch places no more.
    max_agents: int = 4
    #: Seconds without a heartbeat after which a server is dead (``CW_SERVER_LEASE_S``).
    lease_s: float = DEFAULT_SERVER_LEASE_S
    #: Runs agents only: no dispatch loop, no dashboard (``cw serve --worker``).
    worker: bool = False
    #: The servers' work meets in each project's own repository (on PostgreSQL, where
    #: several servers share one database): agent branches and the initiative branch
    #: are pushed there and fetched from there.
    share_branches: bool = False

    @property
    def heartbeat_s(self) -> float:
        """How often the server reports it is alive: several times per lease."""
        return min(5.0, self.lease_s / 4)

    def runs_here(self, agent: Agent) -> bool:
        """Whether this server runs ``agent`` (an agent recorded before servers had ids,
        or by a runner with none, belongs to whoever reconciles it): its process and
        worktrees are on this machine."""
        mine = self.server_id
        return agent.server_id is None or mine is None or agent.server_id == mine


def default_max_agents() -> int:
    """Agents a machine holds by default: two per CPU this process may use, and no more
    than its memory holds at ``AGENT_MEMORY_BYTES`` each; at least one."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    by_cpu = 2 * (cpus or 1)
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return max(1, by_cpu)
    return max(1, min(by_cpu, memory // AGENT_MEMORY_BYTES))


def with_cw_on_path(path: str) -> str:
    """``PATH`` with the directory of this installation's ``cw`` at the end (unless it is
    there already), so ``cw`` works inside every agent, and the agent's own tools
    (its ``python3``, ...) still come first."""
    bin_dir = str(Path(sys.executable).parent)
    entries = [entry for entry in path.split(os.pathsep) if entry]
    if bin_dir in entries or not (Path(bin_dir) / "cw").exists():
        return path
    return os.pathsep.join([*entries, bin_dir])
