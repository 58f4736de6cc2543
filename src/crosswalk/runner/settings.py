"""The runner's settings, read once from the server's environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crosswalk.config import DEFAULT_URL, data_dir


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    #: Where clones, worktrees, output files and account config directories live.
    data_dir: Path
    #: The URL agents reach this server at (``CW_URL`` in their environment).
    server_url: str = DEFAULT_URL
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
    #: The environment agents start from (the server's own, without ``CW_*``).
    base_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls,
        *,
        server_url: str = DEFAULT_URL,
        stop_agents_on_exit: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> RunnerSettings:
        """``CW_CLAUDE_PATH``, ``CW_CODEX_PATH``: the executables;
        ``CW_CLAUDE_PERMISSION_MODE`` (``acceptEdits`` or ``bypassPermissions``),
        ``CW_CODEX_SANDBOX`` (``workspace-write`` or ``danger-full-access``);
        ``CW_AGENT_STOP_GRACE_S``: seconds from SIGTERM to SIGKILL."""
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
        grace = float(env.get("CW_AGENT_STOP_GRACE_S") or 10.0)
        return cls(
            data_dir=data_dir(),
            server_url=server_url,
            executables=executables,
            permission_modes=modes,
            stop_grace_s=grace,
            stop_agents_on_exit=stop_agents_on_exit,
            base_env={key: value for key, value in env.items() if not key.startswith("CW_")},
        )
