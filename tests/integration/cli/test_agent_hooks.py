"""``crosswalk.agent_hooks`` as code calls it (the runner): merging, recognising its own
entries, removing exactly them, and refusing files it cannot merge."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from crosswalk.agent_hooks import (
    PROVIDER_EVENTS,
    HookConfigError,
    has_hooks,
    install_hooks,
    is_ours,
    uninstall_hooks,
)


@pytest.mark.parametrize(
    ("command", "ours"),
    [
        ("/opt/venv/bin/cw hook claude PostToolUse", True),
        ("cw hook codex Stop", True),
        ("'/path with space/cw' hook claude Stop", True),
        ("/usr/bin/python3 -m crosswalk hook claude SessionStart", True),
        ("my-cw hook claude Stop", False),
        ("cw hook vim Stop", False),
        ("echo cw hook claude Stop", False),
        ("cw hook claude", False),
        ("'unbalanced", False),
        (None, False),
    ],
)
def test_our_entries_are_recognised_by_their_command(command: object, ours: bool) -> None:
    assert is_ours(command) is ours


def test_install_twice_then_uninstall_leaves_no_trace_outside_git(tmp_path: Path) -> None:
    path = install_hooks(str(tmp_path), "codex", cw="/x/cw")
    assert path == tmp_path / ".codex" / "hooks.json"
    first = path.read_text()
    install_hooks(tmp_path, "codex", cw="/x/cw")
    assert path.read_text() == first  # nothing duplicated
    hooks = json.loads(first)["hooks"]
    assert tuple(hooks) == PROVIDER_EVENTS["codex"]
    assert hooks["Stop"] == [
        {"hooks": [{"type": "command", "command": "/x/cw hook codex Stop", "timeout": 10}]}
    ]
    assert has_hooks(tmp_path, "codex") and not has_hooks(tmp_path, "claude")

    assert uninstall_hooks(tmp_path, "codex") is True
    assert not path.exists()  # it held nothing else
    assert uninstall_hooks(tmp_path, "codex") is False


def test_a_moved_installation_replaces_its_old_entries(tmp_path: Path) -> None:
    install_hooks(tmp_path, "claude", cw="/old/cw")
    install_hooks(tmp_path, "claude", cw="/new/cw")
    settings = json.loads((tmp_path / ".claude" / "settings.local.json").read_text())
    commands = [
        hook["command"]
        for groups in settings["hooks"].values()
        for group in groups
        for hook in group["hooks"]
    ]
    assert len(commands) == 4 and all(c.startswith("/new/cw hook claude ") for c in commands)


@pytest.mark.parametrize("content", ["{broken", "[1, 2]", '{"hooks": []}'])
def test_a_file_that_cannot_be_merged_is_left_alone(tmp_path: Path, content: str) -> None:
    settings = tmp_path / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text(content)
    with pytest.raises(HookConfigError, match="fix or remove it first"):
        install_hooks(tmp_path, "claude")
    assert settings.read_text() == content


def test_an_unknown_provider_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HookConfigError, match="unknown provider 'vim'"):
        install_hooks(tmp_path, "vim")


def test_worktrees_of_one_repository_share_one_exclude_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True, timeout=30)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    linked = tmp_path / "linked"
    subprocess.run([*git, "-C", str(repo), "worktree", "add", "-q", str(linked)], check=True)

    install_hooks(linked, "claude")
    install_hooks(repo, "claude")

    lines = (repo / ".git" / "info" / "exclude").read_text().splitlines()
    assert lines.count("/.claude/settings.local.json") == 1
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=linked, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
