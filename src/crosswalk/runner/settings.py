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

    def runs_here(self, agent: Agent) -> bool:
        """Whether this server runs ``agent`` (an agent recorded before servers had ids,
        or by a runner with none, belongs to whoever reconciles it): its process and
        worktrees are on this machine."""
        mine = self.server_id
        return agent.server_id is None or mine is None or agent.server_id == mine


def with_cw_on_path(path: str) -> str:
    """``PATH`` with the directory of this installation's ``cw`` at the end (unless it is
    there already), so ``cw`` works inside every agent, and the agent's own tools
    (its ``python3``, ...) still come first."""
    bin_dir = str(Path(sys.executable).parent)
    entries = [entry for entry in path.split(os.pathsep) if entry]
    if bin_dir in entries or not (Path(bin_dir) / "cw").exists():
        return path
    return os.pathsep.join([*entries, bin_dir])
