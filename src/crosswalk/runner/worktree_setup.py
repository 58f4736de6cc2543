"""Preparing a new worktree before its agent starts.

The one place a fresh worktree is set up: the supervisor calls ``prepare_worktree``
for each worktree it creates, after ``git worktree add`` and before the agent runs.
It wires the agent CLI's hooks to crosswalk (what ``cw hooks install`` does), so
questions reach the agent while it works (docs/hooks.md).
"""

from __future__ import annotations

from pathlib import Path

from crosswalk.agent_hooks import install_hooks


def prepare_worktree(path: Path, provider: str) -> None:
    install_hooks(path, provider)
