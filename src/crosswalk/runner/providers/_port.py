"""The provider port: what the runner needs to know about one coding-agent CLI.

A provider builds the command line for a first run and for a resume, reads the
CLI's JSONL output stream into a ``RunOutcome``, writes an account's files into a
config directory, and carries a session's transcript from one config directory
to another (so ``--resume`` finds it after an account change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from crosswalk.config import DEFAULT_URL
from crosswalk.domain.rows import Account
from crosswalk.domain.usage import Usage


@dataclass(frozen=True, slots=True)
class UsageLimit:
    """The account hit a usage limit; it resets at ``resets_at`` when the CLI said when."""

    message: str
    resets_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What a run's output stream showed so far."""

    session_id: str | None = None
    #: The final result as stored in the agent's ``result`` (None: the run gave none).
    result: dict[str, Any] | None = None
    #: The run ended with a successful result.
    succeeded: bool = False
    usage_limit: UsageLimit | None = None
    #: What the run cost, as the CLI reported it (None: it reported nothing yet).
    usage: Usage | None = None


class StreamReader(Protocol):
    """Reads one run's output, line by line, in order."""

    def feed(self, line: str) -> None:
        """One line of output (without its newline); lines that are not JSON are ignored."""
        ...

    @property
    def outcome(self) -> RunOutcome: ...


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How a provider runs, from the server's settings."""

    #: Claude: ``acceptEdits`` (edits in the worktree and ``cw`` allowed) or
    #: ``bypassPermissions`` (unattended). Codex: the sandbox, ``workspace-write`` or
    #: ``danger-full-access``.
    permission_mode: str | None = None
    #: The URL agents reach this server at (their ``CW_URL``): its MCP endpoint is beside it.
    server_url: str = DEFAULT_URL


class Provider(Protocol):
    #: The name agents and accounts use (``agents.provider``, ``accounts.provider``).
    name: str
    #: The executable looked up on PATH when no setting names another path.
    executable_name: str
    #: The npm package that installs the CLI (what to tell a person who lacks it).
    package: str
    #: The environment variable that points the CLI at its config directory.
    config_dir_env: str

    def command(
        self, executable: str, prompt: str, session_id: str | None, options: RunOptions
    ) -> list[str]:
        """The argv of a first run (``session_id`` None) or of a resume of that session."""
        ...

    def reader(self, now: datetime) -> StreamReader:
        """A fresh reader for one run; ``now`` dates reset times given as a time of day."""
        ...

    def account_files(self, account: Account) -> Mapping[str, str]:
        """File name (relative to the config directory) to content, for this account."""
        ...

    def default_config_dir(self, env: Mapping[str, str]) -> Path:
        """Where the CLI keeps its state when no account is set."""
        ...

    def carry_session(self, session_id: str, source: Path, target: Path) -> None:
        """Copy the session's transcript from config dir ``source`` into ``target``."""
        ...
