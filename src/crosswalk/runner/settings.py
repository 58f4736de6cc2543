"""The runner's settings, read once from the server's environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crosswalk.config import DEFAULT_URL, data_dir
from crosswalk.domain.errors import InvalidSettingError
from crosswalk.domain.rows import Agent

#: The server's settings and its clients' identity: never passed on to an agent (it gets
#: its own ``CW_URL``, ``CW_AGENT_ID`` and ``CW_TOKEN``).
SERVER_ONLY_ENV = frozenset(
    {
        "CW_URL",
        "CW_TOKEN",
        "CW_AGENT_ID",
        "CW_HOME",
        "CW_DATABASE_URL",
        "CW_CLAUDE_PATH",
        "CW_CODEX_PATH",
        "CW_CLAUDE_PERMISSION_MODE",
        "CW_CODEX_SANDBOX",
        "CW_AGENT_STOP_GRACE_S",
        "CW_MAX_ANSWERING",
        "CW_ANSWER_TIMEOUT_S",
        "CW_SERVER_ID",
        "CW_MAX_AGENTS",
        "CW_SERVER_LEASE_S",
    }
)

DEFAULT_MAX_ANSWERING = 4
DEFAULT_ANSWER_TIMEOUT_S = 600.0
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
    stop_grace_s: float = 10.0
    #: How often a running agent's output file is read.
    poll_interval_s: float = 0.2
    #: Stop every running agent when the server stops (``cw serve --stop-agents``).
    stop_agents_on_exit: bool = False
    #: The environment agents start from: the server's own, without crosswalk's
    #: client and server settings (``SERVER_ONLY_ENV``).
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

    @classmethod
    def from_env(
        cls,
        *,
        server_url: str = DEFAULT_URL,
        server_id: str | None = None,
        stop_agents_on_exit: bool = False,
        worker: bool = False,
        share_branches: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> RunnerSettings:
        """``CW_CLAUDE_PATH``, ``CW_CODEX_PATH``: the executables;
        ``CW_CLAUDE_PERMISSION_MODE`` (``acceptEdits`` or ``bypassPermissions``),
        ``CW_CODEX_SANDBOX`` (``workspace-write`` or ``danger-full-access``);
        ``CW_AGENT_STOP_GRACE_S``: seconds from SIGTERM to SIGKILL;
        ``CW_MAX_ANSWERING``: answering runs at once; ``CW_ANSWER_TIMEOUT_S``: seconds an
        answering run may take; ``CW_MAX_AGENTS``: agents this server runs at once
        (default from its CPUs and memory); ``CW_SERVER_LEASE_S``: seconds without a
        heartbeat after which a server is dead."""
        env = dict(os.environ if env is None else env)
        executables = {
            name: env[key]
            for name, key in (("claude", "CW_CLAUDE_PATH"), ("codex", "CW_CODEX_PATH"))
            if env.get(key)
        }
        modes = {
            name: env[key]
            for name, key in (
                ("claude", "CW_CLAUDE_PERMISSION_MODE"),
                ("codex", "CW_CODEX_SANDBOX"),
            )
            if env.get(key)
        }
        grace = _seconds(env, "CW_AGENT_STOP_GRACE_S", 10.0)
        answer_timeout = _seconds(
            env, "CW_ANSWER_TIMEOUT_S", DEFAULT_ANSWER_TIMEOUT_S, low=1, high=86_400
        )
        max_answering = _count(env, "CW_MAX_ANSWERING", DEFAULT_MAX_ANSWERING)
        max_agents = _count(env, "CW_MAX_AGENTS", default_max_agents())
        lease = _seconds(env, "CW_SERVER_LEASE_S", DEFAULT_SERVER_LEASE_S, low=2, high=3600)
        base_env = {key: value for key, value in env.items() if key not in SERVER_ONLY_ENV}
        base_env["PATH"] = with_cw_on_path(base_env.get("PATH", ""))
        return cls(
            data_dir=data_dir(),
            server_url=server_url,
            server_id=server_id,
            executables=executables,
            permission_modes=modes,
            stop_grace_s=grace,
            stop_agents_on_exit=stop_agents_on_exit,
            base_env=base_env,
            max_answering=max_answering,
            answer_timeout_s=answer_timeout,
            max_agents=max_agents,
            lease_s=lease,
            worker=worker,
            share_branches=share_branches,
        )

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


def _seconds(
    env: Mapping[str, str], name: str, default: float, *, low: float = 0, high: float = 3600
) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not low <= value <= high:
        raise InvalidSettingError(
            name,
            f"{name}={text!r} is not a number of seconds from {low:g} to {high:g}; fix or unset it",
        )
    return value


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1000:
        raise InvalidSettingError(
            name, f"{name}={text!r} is not a whole number from 1 to 1000; fix or unset it"
        )
    return value
