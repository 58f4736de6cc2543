"""Claude Code: ``claude -p PROMPT --output-format stream-json --verbose [--resume ID]``,
with crosswalk's MCP endpoint for the run (``--mcp-config``, docs/mcp.md).

The stream's first line (``system``/``init``) names the session; the last
(``result``) says how the run ended. A usage limit shows as a ``rate_limit_event``
with ``status: rejected`` and ``resetsAt`` (epoch seconds), or as result text such
as ``Claude AI usage limit reached|<epoch s>`` or ``You've hit your 5-hour limit ·
resets 6:42pm (UTC)``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from crosswalk.agent_mcp import claude_mcp_config, tool_names
from crosswalk.domain.rows import Account
from crosswalk.domain.usage import Usage, count
from crosswalk.runner.providers._limits import epoch_seconds, reset_time_in_text
from crosswalk.runner.providers._port import RunOptions, RunOutcome, UsageLimit

_LIMIT_TEXT = re.compile(r"usage limit reached|hit your [^.\n]*limit", re.IGNORECASE)
#: Edits in the worktree, and ``cw`` (to ask and answer), without asking anyone.
DEFAULT_PERMISSION_MODE = "acceptEdits"
ALLOWED_TOOLS = "Bash(cw:*)"


class ClaudeProvider:
    name = "claude"
    executable_name = "claude"
    package = "@anthropic-ai/claude-code"
    config_dir_env = "CLAUDE_CONFIG_DIR"

    def command(
        self, executable: str, prompt: str, session_id: str | None, options: RunOptions
    ) -> list[str]:
        argv = [executable, "-p", prompt, "--output-format", "stream-json", "--verbose"]
        if session_id is not None:
            argv += ["--resume", session_id]
        mode = options.permission_mode or DEFAULT_PERMISSION_MODE
        argv += ["--permission-mode", mode]
        if mode != "bypassPermissions":
            # `cw` and crosswalk's MCP tools (docs/mcp.md) run without a prompt nobody sees
            argv += ["--allowedTools", ",".join([ALLOWED_TOOLS, *tool_names()])]
        return [*argv, "--mcp-config", claude_mcp_config(options.server_url)]

    def reader(self, now: datetime) -> ClaudeStreamReader:
        return ClaudeStreamReader(now)

    def account_files(self, account: Account) -> Mapping[str, str]:
        files: dict[str, str] = {}
        if account.credentials:
            files[".credentials.json"] = account.credentials
        if account.config_json:
            files[".claude.json"] = account.config_json
        return files

    def default_config_dir(self, env: Mapping[str, str]) -> Path:
        if env.get(self.config_dir_env):
            return Path(env[self.config_dir_env])
        return Path(env.get("HOME") or Path.home()) / ".claude"

    def carry_session(self, session_id: str, source: Path, target: Path) -> None:
        """Transcripts live in ``projects/<cwd with / as ->/<session>.jsonl`` (plus a
        ``<session>/`` directory for sub-agents): copy each to the same place."""
        projects = source / "projects"
        if not projects.is_dir():
            return
        for found in projects.glob(f"*/{session_id}*"):
            if found.is_symlink():
                continue  # the CLI writes files; a link is not its transcript
            destination = target / found.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            if found.is_dir():
                shutil.copytree(found, destination, symlinks=True, dirs_exist_ok=True)
            else:
                shutil.copy2(found, destination)


class ClaudeStreamReader:
    def __init__(self, now: datetime) -> None:
        self._now = now
        self._session_id: str | None = None
        self._result: dict[str, Any] | None = None
        self._succeeded = False
        self._limit: UsageLimit | None = None
        self._limit_reset: datetime | None = None
        self._usage: Usage | None = None

    @property
    def outcome(self) -> RunOutcome:
        return RunOutcome(self._session_id, self._result, self._succeeded, self._limit, self._usage)

    def feed(self, line: str) -> None:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):  # an agent's output may be anything
            return
        if not isinstance(event, dict):
            return
        kind = event.get("type")
        if isinstance(event.get("session_id"), str) and (
            (kind == "system" and event.get("subtype") == "init") or self._session_id is None
        ):
            self._session_id = event["session_id"]
        if kind == "rate_limit_event":
            info = event.get("rate_limit_info")
            if isinstance(info, dict) and info.get("status") == "rejected":
                self._limit_reset = epoch_seconds(info.get("resetsAt"))
                self._limit = UsageLimit("usage limit reached", self._limit_reset)
        elif kind == "result":
            self._read_result(event)

    def _read_result(self, event: dict[str, Any]) -> None:
        text = event.get("result")
        is_error = bool(event.get("is_error"))
        self._result = {
            "subtype": event.get("subtype"),
            "isError": is_error,
            "result": text,
            "totalCostUsd": event.get("total_cost_usd"),
            "numTurns": event.get("num_turns"),
            "durationMs": event.get("duration_ms"),
        }
        self._usage = _usage(event)
        self._succeeded = event.get("subtype") == "success" and not is_error
        if isinstance(text, str) and _LIMIT_TEXT.search(text):
            resets_at = self._limit_reset or reset_time_in_text(text, self._now)
            self._limit = UsageLimit(text, resets_at)
        if self._limit is not None:
            self._succeeded = False


def _usage(result: dict[str, Any]) -> Usage:
    """The result line's ``total_cost_usd``, ``num_turns``, ``duration_ms`` and token
    counts (``usage``: input, output, cache creation and cache read)."""
    tokens = result.get("usage")
    tokens = tokens if isinstance(tokens, dict) else {}
    cost = result.get("total_cost_usd")
    return Usage(
        cost_usd=float(cost)
        if isinstance(cost, int | float) and not isinstance(cost, bool)
        else None,
        turns=count(result.get("num_turns")),
        duration_ms=count(result.get("duration_ms")),
        input_tokens=count(tokens.get("input_tokens")),
        output_tokens=count(tokens.get("output_tokens")),
        cache_creation_tokens=count(tokens.get("cache_creation_input_tokens")),
        cache_read_tokens=count(tokens.get("cache_read_input_tokens")),
    )
