"""How agent CLIs reach crosswalk's MCP server: the entries and flags.

A leaf module (standard library only), so every layer may use it. The server serves MCP
over Streamable HTTP at ``/mcp`` beside ``/trpc``, for the agent whose token a request
carries. The runner gives each agent it spawns that endpoint for the run only (Claude
Code: ``--mcp-config`` with an ``http`` entry whose header Claude Code fills from
``CW_TOKEN``, and ``--allowedTools``; Codex: ``-c mcp_servers.crosswalk.*`` overrides
naming ``CW_TOKEN`` as the bearer token's variable), so no token is written into an
argument or a file. ``cw mcp install`` writes a stdio entry (``cw mcp``, the relay)
into a worktree's ``.mcp.json`` for a person who starts ``claude`` by hand: the relay
also finds the identity file ``--agent`` saves, which an HTTP entry could not. See
docs/mcp.md.
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
#: What the relay needs from the agent CLI's environment (Codex passes a stdio server
#: only a few variables unless told which others to pass).
IDENTITY_ENV = ("CW_URL", "CW_AGENT_ID", "CW_TOKEN")
#: The variable holding the agent's token, which the HTTP entries name (never its value).
TOKEN_ENV = "CW_TOKEN"


def mcp_url(trpc_url: str) -> str:
    """The server's MCP endpoint, beside its tRPC endpoint (``CW_URL``)."""
    base = trpc_url.rstrip("/")
    if base.endswith("/trpc"):
        base = base[: -len("/trpc")]
    return base + "/mcp"


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
    """The stdio entry (``cw mcp``, the relay), as Claude Code's ``mcpServers`` holds it."""
    command, *args = [*cw_argv(), "mcp"]
    return {"type": "stdio", "command": command, "args": args}


def tool_names() -> list[str]:
    """The tools as Claude Code names them (``mcp__crosswalk__ask``, ...)."""
    return [f"mcp__{SERVER_NAME}__{tool}" for tool in TOOL_NAMES]


def http_entry(server_url: str) -> dict[str, Any]:
    """The server's own endpoint as Claude Code's ``mcpServers`` holds it: Claude Code
    expands ``${CW_TOKEN}`` from its environment, so the entry holds no token."""
    return {
        "type": "http",
        "url": mcp_url(server_url),
        "headers": {"Authorization": f"Bearer ${{{TOKEN_ENV}}}"},
    }


def claude_mcp_config(server_url: str) -> str:
    """The ``--mcp-config`` value (a JSON string) for one run of Claude Code whose
    environment holds ``CW_TOKEN``, against the server at ``server_url`` (``CW_URL``)."""
    return json.dumps({"mcpServers": {SERVER_NAME: http_entry(server_url)}})


def codex_overrides(server_url: str) -> list[str]:
    """``-c`` arguments that give one run of Codex the server's endpoint (Streamable
    HTTP, the bearer token read from ``CW_TOKEN`` in Codex's environment), without
    touching its ``config.toml``. Values are TOML; a JSON string is one too."""
    settings = {
        "url": json.dumps(mcp_url(server_url)),
        "bearer_token_env_var": json.dumps(TOKEN_ENV),
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
