"""How agent CLIs start crosswalk's MCP server (``cw mcp``): the entries and flags.

A leaf module (standard library only), so every layer may use it: the runner gives each
agent it spawns the server for that run only (Claude Code: ``--mcp-config`` and
``--allowedTools``; Codex: ``-c mcp_servers.crosswalk.*`` overrides), and ``cw mcp
install`` writes the same entry into a worktree's ``.mcp.json`` for a person who starts
``claude`` by hand. The server reads who it acts as from ``CW_AGENT_ID``, ``CW_TOKEN`` and
``CW_URL`` in its environment, so no entry carries a token. See docs/mcp.md.
"""

from __future__ import annotations

import json
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see crosswalk.cli)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

#: The server's name in every configuration: its tools are ``mcp__crosswalk__<tool>``.
SERVER_NAME = "crosswalk"
#: Every tool ``cw mcp`` offers, in the order it lists them.
TOOL_NAMES = ("ask", "pending", "answer", "wait", "whoami")
#: The file Claude Code reads project MCP servers from, at the worktree's top level.
PROJECT_FILE = ".mcp.json"
#: Claude Code's local settings (the hooks' file too): where a project server is approved
#: and its tools allowed.
SETTINGS_FILE = ".claude/settings.local.json"
#: What the server needs from the agent CLI's environment (Codex passes a stdio server
#: only a few variables unless told which others to pass).
IDENTITY_ENV = ("CW_URL", "CW_AGENT_ID", "CW_TOKEN")


class McpConfigError(ValueError):
    """A ``.mcp.json`` that cannot be merged: the message says which and why."""


def cw_argv() -> list[str]:
    """How an agent CLI starts ``cw``: this installation's console script by full path
    (agents' PATHs differ), else this interpreter with ``-m crosswalk``."""
    from pathlib import Path

    script = Path(sys.executable).with_name("cw")
    if os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "crosswalk"]


def server_entry() -> dict[str, Any]:
    """The stdio server entry, as Claude Code's ``mcpServers`` holds it."""
    command, *args = [*cw_argv(), "mcp"]
    return {"type": "stdio", "command": command, "args": args}


def tool_names() -> list[str]:
    """The tools as Claude Code names them (``mcp__crosswalk__ask``, ...)."""
    return [f"mcp__{SERVER_NAME}__{tool}" for tool in TOOL_NAMES]


def claude_mcp_config() -> str:
    """The ``--mcp-config`` value (a JSON string) for one run of Claude Code."""
    return json.dumps({"mcpServers": {SERVER_NAME: server_entry()}})


def codex_overrides() -> list[str]:
    """``-c`` arguments that give one run of Codex the server, without touching its
    ``config.toml``. Values are TOML; a JSON string or list of strings is one too."""
    entry = server_entry()
    settings = {
        "command": json.dumps(entry["command"]),
        "args": json.dumps(entry["args"]),
        "env_vars": json.dumps(list(IDENTITY_ENV)),
    }
    overrides: list[str] = []
    for key, value in settings.items():
        overrides += ["-c", f"mcp_servers.{SERVER_NAME}.{key}={value}"]
    return overrides


def _read(path: Path, fields: dict[str, type]) -> dict[str, Any]:
    """The JSON object in ``path`` ({} when absent), whose ``fields`` (dotted keys) have
    the given types when present."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        config = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise McpConfigError(f"{path} is not valid JSON ({exc}); fix or remove it first") from None
    if not isinstance(config, dict):
        raise McpConfigError(f"{path} does not hold a JSON object; fix or remove it first")
    for dotted, kind in fields.items():
        value: Any = config
        for key in dotted.split("."):
            value = value.get(key, kind()) if isinstance(value, dict) else kind()
        if not isinstance(value, kind):
            what = "an object" if kind is dict else "a list"
            raise McpConfigError(f'{path}: "{dotted}" is not {what}; fix or remove it first')
    return config


def _write(path: Path, config: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def _write_or_remove(path: Path, config: dict[str, Any]) -> None:
    if config:
        _write(path, config)
    elif path.exists():
        path.unlink()  # it held nothing but ours


_SERVERS: dict[str, type] = {"mcpServers": dict}
_SETTINGS: dict[str, type] = {
    "enabledMcpjsonServers": list,
    "permissions": dict,
    "permissions.allow": list,
}


def install_mcp(worktree: str | os.PathLike[str]) -> Path:
    """Add (or refresh) the ``crosswalk`` entry of the worktree's ``.mcp.json``, keeping
    every other server; approve it and allow its tools in Claude Code's local settings
    (``claude -p`` cannot ask, and would neither start nor use it); keep both files out
    of git. Return the ``.mcp.json`` path."""
    from pathlib import Path

    from crosswalk.agent_hooks import exclude_from_git

    path, settings_path = Path(worktree) / PROJECT_FILE, Path(worktree) / SETTINGS_FILE
    config, settings = _read(path, _SERVERS), _read(settings_path, _SETTINGS)
    _write(
        path,
        {**config, "mcpServers": {**config.get("mcpServers", {}), SERVER_NAME: server_entry()}},
    )
    permissions = settings.get("permissions", {})
    allow = [*permissions.get("allow", []), *tool_names()]
    enabled = [*settings.get("enabledMcpjsonServers", []), SERVER_NAME]
    settings = {
        **settings,
        "enabledMcpjsonServers": list(dict.fromkeys(enabled)),
        "permissions": {**permissions, "allow": list(dict.fromkeys(allow))},
    }
    _write(settings_path, settings)
    exclude_from_git(worktree, [PROJECT_FILE, SETTINGS_FILE])
    return path


def uninstall_mcp(worktree: str | os.PathLike[str]) -> bool:
    """Remove exactly what ``install_mcp`` added; a file left empty goes. Return whether
    there was a ``crosswalk`` entry."""
    from pathlib import Path

    path, settings_path = Path(worktree) / PROJECT_FILE, Path(worktree) / SETTINGS_FILE
    config, settings = _read(path, _SERVERS), _read(settings_path, _SETTINGS)
    servers = dict(config.get("mcpServers", {}))
    found = servers.pop(SERVER_NAME, None) is not None
    if found:
        rest = {key: value for key, value in config.items() if key != "mcpServers"}
        _write_or_remove(path, {**rest, "mcpServers": servers} if servers else rest)
    ours = {SERVER_NAME, *tool_names()}
    enabled = [name for name in settings.get("enabledMcpjsonServers", []) if name not in ours]
    permissions = dict(settings.get("permissions", {}))
    allow = [rule for rule in permissions.pop("allow", []) if rule not in ours]
    if allow:
        permissions["allow"] = allow
    kept = {k: v for k, v in settings.items() if k not in ("enabledMcpjsonServers", "permissions")}
    if enabled:
        kept["enabledMcpjsonServers"] = enabled
    if permissions:
        kept["permissions"] = permissions
    if kept != settings:
        _write_or_remove(settings_path, kept)
    return found


def has_mcp(worktree: str | os.PathLike[str]) -> bool:
    """Whether the worktree's ``.mcp.json`` holds the ``crosswalk`` entry."""
    from pathlib import Path

    try:
        servers = _read(Path(worktree) / PROJECT_FILE, _SERVERS).get("mcpServers", {})
    except McpConfigError:
        return False
    return SERVER_NAME in servers
