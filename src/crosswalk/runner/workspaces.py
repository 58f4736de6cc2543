"""An agent's workspace: one git worktree per project of its initiative, on its own
branch, under ``<data>/worktrees/<agent id>/`` (see ``docs/runner.md``). Blocking:
called off the event loop."""

from __future__ import annotations

import shutil
from pathlib import Path

from crosswalk.domain.rows import Agent, Initiative, Project
from crosswalk.domain.slug import slugify
from crosswalk.runner.layout import DataLayout
from crosswalk.runner.ports import ProjectSource, Worktrees, WorktreeState
from crosswalk.runner.worktree_setup import prepare_worktree


class Workspaces:
    def __init__(self, worktrees: Worktrees, layout: DataLayout) -> None:
        self._worktrees = worktrees
        self._layout = layout

    def create(self, agent: Agent, initiative: Initiative, projects: list[Project]) -> Path:
        """Fetch each project, create the initiative branch where it is missing, add
        the agent's worktrees; returns the agent's working directory (the worktree, or
        with several projects the directory holding them)."""
        base = initiative_branch(initiative)
        branch = agent_branch(base, agent.name)
        paths = []
        for project in projects:
            source = ProjectSource(project.id, project.name, project.url, project.default_branch)
            clone = self._worktrees.prepare(source, base)
            path = self._layout.worktree(agent.id, project.name, project.id)
            self._worktrees.add(clone, path, branch, base)
            prepare_worktree(path, agent.provider)
            paths.append(path)
        return paths[0] if len(paths) == 1 else self._layout.agent_worktrees(agent.id)

    def restore(self, agent: Agent, initiative: Initiative, projects: list[Project]) -> list[Path]:
        """Make the agent's worktrees that are gone again, at the same paths, on its
        branch (the CLIs find a session by its directory); returns those made."""
        base = initiative_branch(initiative)
        branch = agent_branch(base, agent.name)
        made = []
        for project in projects:
            path = self._layout.worktree(agent.id, project.name, project.id)
            if (path / ".git").exists():
                continue
            source = ProjectSource(project.id, project.name, project.url, project.default_branch)
            clone = self._worktrees.prepare(source, base)
            self._worktrees.restore(clone, path, branch)
            prepare_worktree(path, agent.provider)
            made.append(path)
        return made

    def states(self, agent_id: str) -> dict[Path, WorktreeState]:
        """The state of each of the agent's worktrees."""
        return {path: self._worktrees.state(path) for path in self._paths(agent_id)}

    def changed_since(self, agent_id: str, before: dict[Path, WorktreeState]) -> list[str]:
        """What changed in the agent's worktrees since ``before`` (from ``states``); with
        several projects each path starts with its worktree's name."""
        changed: list[str] = []
        several = len(before) > 1
        for path, state in before.items():
            if path.is_dir():
                for name in self._worktrees.changed_since(path, state):
                    changed.append(f"{path.name}/{name}" if several else name)
        return changed

    def _paths(self, agent_id: str) -> list[Path]:
        root = self._layout.agent_worktrees(agent_id)
        if not root.is_dir():
            return []
        return [path for path in sorted(root.iterdir()) if path.is_dir()]

    def remove(self, agent_id: str, delete_branch: bool) -> list[str]:
        """Remove the agent's worktrees (pruned from their clones); returns their paths."""
        root = self._layout.agent_worktrees(agent_id)
        if not root.is_dir():
            return []
        removed = []
        for path in sorted(root.iterdir()):
            if path.is_dir():
                self._worktrees.remove(path, delete_branch=delete_branch)
                removed.append(str(path))
        shutil.rmtree(root, ignore_errors=True)
        return removed


def initiative_branch(initiative: Initiative) -> str:
    """The initiative's branch (``cw/<slug>`` when it has none recorded)."""
    return initiative.branch or f"cw/{slugify(initiative.name) or initiative.id}"


def agent_branch(initiative_branch: str, agent_name: str) -> str:
    """``cw/auth-rewrite--brave-otter``: git cannot hold both ``cw/auth-rewrite`` and
    ``cw/auth-rewrite/brave-otter`` (a ref cannot also be a directory of refs)."""
    return f"{initiative_branch}--{agent_name}"
