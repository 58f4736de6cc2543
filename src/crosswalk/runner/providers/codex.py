"""Codex: ``codex exec --json --skip-git-repo-check --sandbox S -c mcp_servers.crosswalk.*
-c HOOKS... [resume ID] PROMPT`` (crosswalk's MCP server and hooks for the run, docs/mcp.md,
docs/hooks.md).

``thread.started`` names the session (the thread); ``turn.completed`` ends a good
run, ``turn.failed`` and ``error`` a bad one. A usage limit is an error whose
message says so (``You've hit your usage limit. ... try again at 6:45 PM.``).
The sandbox flag goes before ``resume``, which has none of its own. crosswalk's hooks
come on the command line, trusted for that run (``codex_hooks``).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crosswalk.agent_hooks import hook_groups
from crosswalk.agent_mcp import codex_overrides
from crosswalk.domain.rows import Account
from crosswalk.domain.usage import Usage, count
from crosswalk.runner.providers._limits import reset_time_in_text
from crosswalk.runner.providers._port import RunOptions, RunOutcome, UsageLimit
from crosswalk.runner.providers.codex_hooks import session_hook_args

_LIMIT_TEXT = re.compile(r"usage limit", re.IGNORECASE)
DEFAULT_SANDBOX = "workspace-write"


class CodexProvider:
    name = "codex"
    executable_name = "codex"
    package = "@openai/codex"
    config_dir_env = "CODEX_HOME"

    def command(
        self, executable: str, prompt: str, session_id: str | None, options: RunOptions
    ) -> list[str]:
        argv = [executable, "exec", "--json", "--skip-git-repo-check"]
        argv += ["--sandbox", options.permission_mode or DEFAULT_SANDBOX]
        # crosswalk's MCP endpoint, for this run only (docs/mcp.md)
        argv += codex_overrides(options.server_url)
        argv += session_hook_args(hook_groups(self.name))
        if session_id is not None:
            argv += ["resume", session_id]
        return [*argv, prompt]

    def reader(self, now: datetime) -> CodexStreamReader:
        return CodexStreamReader(now)

    def account_files(self, account: Account) -> Mapping[str, str]:
        """``credentials`` is Codex's ``auth.json``; ``configJson`` holds the text of
        its ``config.toml`` (a JSON string) when given."""
        files: dict[str, str] = {}
        if account.credentials:
            files["auth.json"] = account.credentials
        if account.config_json:
            try:
                config = json.loads(account.config_json)
            except ValueError:
                config = account.config_json
            if isinstance(config, str):
                files["config.toml"] = config
        return files

    def default_config_dir(self, env: Mapping[str, str]) -> Path:
        if env.get(self.config_dir_env):
            return Path(env[self.config_dir_env])
        return Path(env.get("HOME") or Path.home()) / ".codex"

    def carry_session(self, session_id: str, source: Path, target: Path) -> None:
        """Threads live in ``sessions/YYYY/MM/DD/rollout-...-<thread id>.jsonl``."""
        sessions = source / "sessions"
        if not sessions.is_dir():
            return
        for found in sessions.rglob(f"*{session_id}*.jsonl"):
            if found.is_symlink():
                continue  # the CLI writes files; a link is not its thread
            destination = target / found.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, destination)


class CodexStreamReader:
    def __init__(self, now: datetime) -> None:
        self._now = now
        self._session_id: str | None = None
        self._last_message: str | None = None
        self._usage: Any = None
        self._turns = 0
        self._tokens = Usage()
        self._completed = False
        self._failure: str | None = None
        self._limit: UsageLimit | None = None

    @property
    def outcome(self) -> RunOutcome:
        result: dict[str, Any] | None = None
        if self._completed or self._failure is not None:
            failed = self._failure is not None or self._limit is not None
            result = {
                "subtype": "error" if failed else "success",
                "isError": failed,
                "result": self._failure if failed else self._last_message,
                "usage": self._usage,
            }
        succeeded = self._completed and self._failure is None and self._limit is None
        usage = self._tokens if self._turns else None
        return RunOutcome(self._session_id, result, succeeded, self._limit, usage)

    def feed(self, line: str) -> None:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # an agent's output may be anything
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if kind == "thread.started" and isinstance(event.get("thread_id"), str):
            self._session_id = event["thread_id"]
        elif kind == "item.completed":
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "agent_message":
                self._last_message = str(item.get("text", ""))
        elif kind == "turn.completed":
            self._completed = True
            self._usage = event.get("usage")
            self._add_usage(self._usage)
        elif kind == "turn.failed":
            error = event.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            self._fail(str(message or "the turn failed"))
        elif kind == "error":
            self._error(str(event.get("message", "")))

    def _add_usage(self, usage: Any) -> None:
        """Sum the turn's tokens into the run's. Codex reports no cost; its
        ``cached_input_tokens`` are part of ``input_tokens`` (so taken out of them)."""
        self._turns += 1
        tokens = usage if isinstance(usage, dict) else {}
        cached = count(tokens.get("cached_input_tokens")) or 0
        fresh = count(tokens.get("input_tokens"))
        before = self._tokens
        self._tokens = Usage(
            turns=self._turns,
            input_tokens=_plus(
                before.input_tokens, None if fresh is None else max(fresh - cached, 0)
            ),
            output_tokens=_plus(before.output_tokens, count(tokens.get("output_tokens"))),
            cache_creation_tokens=_plus(
                before.cache_creation_tokens, count(tokens.get("cache_write_input_tokens"))
            ),
            cache_read_tokens=_plus(
                before.cache_read_tokens, count(tokens.get("cached_input_tokens"))
            ),
        )

    def _error(self, message: str) -> None:
        # Retries ("Reconnecting... 1/5") and model-metadata warnings are not the end.
        if _LIMIT_TEXT.search(message):
            self._fail(message)

    def _fail(self, message: str) -> None:
        self._failure = message
        if _LIMIT_TEXT.search(message):
            self._limit = UsageLimit(message, reset_time_in_text(message, self._now))


def _plus(total: int | None, more: int | None) -> int | None:
    return total if more is None else (total or 0) + more
