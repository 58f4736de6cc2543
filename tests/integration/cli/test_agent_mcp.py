"""``crosswalk.agent_mcp``: the entries that reach crosswalk's MCP server (``.mcp.json``'s
relay, Claude's ``--mcp-config``, Codex's ``-c`` overrides), and ``cw mcp
install|uninstall``."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from tests.support.server import CW

from crosswalk.agent_hooks import install_hooks
from crosswalk.agent_mcp import (
    McpConfigError,
    claude_mcp_config,
    codex_overrides,
    install_mcp,
    mcp_url,
    server_entry,
    tool_names,
    uninstall_mcp,
)


def test_the_installed_entry_starts_this_installations_cw_mcp_relay() -> None:
    entry = server_entry()
    assert entry == {"type": "stdio", "command": CW, "args": ["mcp"]}
    assert tool_names() == [
        "mcp__crosswalk__ask",
        "mcp__crosswalk__pending",
        "mcp__crosswalk__answer",
        "mcp__crosswalk__wait",
        "mcp__crosswalk__whoami",
    ]


@pytest.mark.parametrize(
    ("cw_url", "endpoint"),
    [
        ("http://127.0.0.1:8377/trpc", "http://127.0.0.1:8377/mcp"),
        ("http://10.0.0.5:9000/trpc/", "http://10.0.0.5:9000/mcp"),
        ("https://cw.example/base/trpc", "https://cw.example/base/mcp"),
    ],
)
def test_the_mcp_endpoint_sits_beside_the_trpc_one(cw_url: str, endpoint: str) -> None:
    assert mcp_url(cw_url) == endpoint


def test_claudes_entry_is_the_http_endpoint_with_the_token_by_name() -> None:
    config = json.loads(claude_mcp_config("http://10.0.0.5:9000/trpc"))
    assert config == {"mcpServers": {"crosswalk": {
        "type": "http",
        "url": "http://10.0.0.5:9000/mcp",
        "headers": {"Authorization": "Bearer ${CW_TOKEN}"},
    }}}  # fmt: skip


def test_the_codex_overrides_are_toml_naming_the_endpoint_and_the_tokens_variable() -> None:
    overrides = codex_overrides("http://10.0.0.5:9000/trpc")
    assert overrides[::2] == ["-c"] * 2
    settings: dict[str, object] = {}
    for override in overrides[1::2]:
        key, _, value = override.partition("=")
        assert key.startswith("mcp_servers.crosswalk.")
        settings[key.removeprefix("mcp_servers.crosswalk.")] = tomllib.loads(f"v = {value}")["v"]
    assert settings == {"url": "http://10.0.0.5:9000/mcp", "bearer_token_env_var": "CW_TOKEN"}


def _git_repo(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_install_keeps_other_servers_and_uninstall_takes_only_its_own(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    path = repo / ".mcp.json"
    other = {"command": "npx", "args": ["some-server"]}
    path.write_text(json.dumps({"mcpServers": {"other": other}, "note": "kept"}))

    assert install_mcp(repo) == path
    first = path.read_text()
    install_mcp(repo)
    assert path.read_text() == first  # nothing duplicated
    assert json.loads(first) == {
        "mcpServers": {"other": other, "crosswalk": server_entry()},
        "note": "kept",
    }
    exclude = (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert {"/.mcp.json", "/.claude/settings.local.json"} <= set(exclude)

    assert uninstall_mcp(repo) is True
    assert json.loads(path.read_text()) == {"mcpServers": {"other": other}, "note": "kept"}
    assert uninstall_mcp(repo) is False


def test_install_approves_the_server_and_allows_its_tools_beside_the_hooks(
    tmp_path: Path,
) -> None:
    """``claude -p`` neither starts an unapproved project server nor runs a tool that
    is not allowed; the hooks share the settings file and stay."""
    settings = tmp_path / ".claude" / "settings.local.json"
    install_hooks(tmp_path, "claude", cw="/x/cw")
    settings.write_text(
        json.dumps({**json.loads(settings.read_text()), "permissions": {"allow": ["Read"]}})
    )
    install_mcp(tmp_path)
    install_mcp(tmp_path)
    merged = json.loads(settings.read_text())
    assert merged["enabledMcpjsonServers"] == ["crosswalk"]
    assert merged["permissions"]["allow"] == ["Read", *tool_names()]
    assert "hooks" in merged

    uninstall_mcp(tmp_path)
    kept = json.loads(settings.read_text())
    assert kept["permissions"] == {"allow": ["Read"]}
    assert "enabledMcpjsonServers" not in kept
    assert "hooks" in kept


def test_a_settings_file_holding_only_our_entries_goes_with_them(tmp_path: Path) -> None:
    install_mcp(tmp_path)
    assert uninstall_mcp(tmp_path) is True
    assert not (tmp_path / ".mcp.json").exists()
    assert not (tmp_path / ".claude" / "settings.local.json").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (".mcp.json", "{not json"),
        (".mcp.json", "[]"),
        (".mcp.json", '{"mcpServers": []}'),
        (".claude/settings.local.json", '{"permissions": {"allow": "Read"}}'),
        (".claude/settings.local.json", '{"enabledMcpjsonServers": {}}'),
    ],
)
def test_a_file_that_cannot_be_merged_is_left_alone(
    tmp_path: Path, name: str, content: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    with pytest.raises(McpConfigError, match="fix or remove it first"):
        install_mcp(tmp_path)
    assert path.read_text() == content
    assert not (tmp_path / ".mcp.json").exists() or name == ".mcp.json"


def _cw(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crosswalk", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cw_mcp_install_and_uninstall_in_the_git_top_level(tmp_path: Path) -> None:
    repo = _git_repo(tmp_path / "repo")
    (repo / "src").mkdir()
    installed = _cw("mcp", "install", cwd=repo / "src")
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout == f"added the crosswalk MCP server to {repo / '.mcp.json'}\n"
    assert "crosswalk" in json.loads((repo / ".mcp.json").read_text())["mcpServers"]

    removed = _cw("mcp", "uninstall", "--worktree", str(repo), cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"removed the crosswalk MCP server from {repo / '.mcp.json'}\n"
    assert not (repo / ".mcp.json").exists()


def test_cw_mcp_install_refuses_a_broken_file_saying_which(tmp_path: Path) -> None:
    (tmp_path / ".mcp.json").write_text("{oops")
    refused = _cw("mcp", "install", "--worktree", str(tmp_path), cwd=tmp_path)
    assert refused.returncode == 2
    assert "is not valid JSON" in refused.stderr
    assert "Traceback" not in refused.stderr
