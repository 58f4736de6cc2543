"""Preparing a new worktree before its agent starts.

The one place a fresh worktree is set up: the supervisor calls ``prepare_worktree``
for each worktree it creates, after ``git worktree add`` and before the agent runs.
Hooks that report an agent's progress to crosswalk (``cw hooks install``) go here.
"""

from __future__ import annotations

from pathlib import Path


def prepare_worktree(path: Path, provider: str) -> None:
    """Nothing to prepare yet: the worktree is used as git made it. (With agent hooks:
    ``crosswalk.agent_hooks.install_hooks(path, provider)``.)"""
    del path, provider
