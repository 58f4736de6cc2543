"""Run configured hook commands the way Claude Code (and Codex) do.

Configuration: ``{"hooks": {"EventName": [{"matcher": "Bash", "hooks": [{"type": "command",
"command": "...", "timeout": 60}]}]}}``. Each command runs through ``sh -c`` in the agent's
working directory with the event JSON on stdin. Exit 0 with JSON on stdout is parsed
(``hookSpecificOutput.additionalContext``, ``decision``/``reason``); plain stdout counts as
context only for SessionStart and UserPromptSubmit; exit 2 blocks with stderr as the reason
(Stop) or feeds stderr back (PostToolUse); a command past its timeout is killed and ignored.

Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TIMEOUT_S = 60.0
PLAIN_STDOUT_IS_CONTEXT = ("SessionStart", "UserPromptSubmit")
BLOCKING_EXIT_CODE = 2


@dataclass
class CommandRun:
    """One hook command that ran to its end (a timed-out one is not listed)."""

    command: str
    stdout: str
    stderr: str
    exit_code: int


@dataclass
class HookOutcome:
    context: list[str] = field(default_factory=list)
    block_reason: str | None = None
    runs: list[CommandRun] = field(default_factory=list)


def load_hooks(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Every file's matcher groups, concatenated per event; unreadable files are skipped."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        hooks = data.get("hooks") if isinstance(data, dict) else None
        if not isinstance(hooks, dict):
            continue
        for event, groups in hooks.items():
            if isinstance(groups, list):
                merged.setdefault(event, []).extend(g for g in groups if isinstance(g, dict))
    return merged


def matches(matcher: Any, tool_name: str | None) -> bool:
    if tool_name is None or matcher in (None, "", "*"):
        return True
    try:
        return re.fullmatch(str(matcher), tool_name) is not None
    except re.error:
        return str(matcher) == tool_name


def commands_for(
    hooks: dict[str, list[dict[str, Any]]], event: str, tool_name: str | None
) -> list[dict[str, Any]]:
    commands = []
    for group in hooks.get(event, []):
        if not matches(group.get("matcher"), tool_name):
            continue
        for hook in group.get("hooks", []):
            if isinstance(hook, dict) and hook.get("type", "command") == "command":
                commands.append(hook)
    return commands


def run_hooks(
    hooks: dict[str, list[dict[str, Any]]],
    event: str,
    payload: dict[str, Any],
    cwd: Path,
    tool_name: str | None = None,
) -> HookOutcome:
    outcome = HookOutcome()
    stdin = json.dumps(payload)
    env = dict(os.environ, CLAUDE_PROJECT_DIR=str(cwd))
    for hook in commands_for(hooks, event, tool_name):
        timeout = float(hook.get("timeout", DEFAULT_TIMEOUT_S))
        try:
            completed = subprocess.run(
                ["sh", "-c", str(hook.get("command", ""))],
                cwd=cwd,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        outcome.runs.append(
            CommandRun(hook["command"], completed.stdout, completed.stderr, completed.returncode)
        )
        _read_output(event, completed, outcome)
    return outcome


def _read_output(event: str, completed: subprocess.CompletedProcess[str], out: HookOutcome) -> None:
    if completed.returncode == BLOCKING_EXIT_CODE:
        reason = completed.stderr.strip()
        if event == "Stop":
            out.block_reason = reason
        elif reason:
            out.context.append(reason)
        return
    if completed.returncode != 0:
        return
    stdout = completed.stdout.strip()
    if not stdout:
        return
    try:
        parsed = json.loads(stdout)
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        if event in PLAIN_STDOUT_IS_CONTEXT:
            out.context.append(stdout)
        return
    specific = parsed.get("hookSpecificOutput")
    if isinstance(specific, dict) and isinstance(specific.get("additionalContext"), str):
        out.context.append(specific["additionalContext"])
    if parsed.get("decision") == "block":
        out.block_reason = str(parsed.get("reason", ""))
