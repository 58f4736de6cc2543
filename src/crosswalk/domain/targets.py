"""Whom a question names: a tagged union with one member per kind.

``conversation.ask`` validates its input into exactly one of these at the wire, so the
services receive a value whose type says which kind it is: resolving it is one
``match`` with one resolver per kind (``crosswalk.services.targets``). The kinds and
their texts are listed in ``crosswalk.target_kinds``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from crosswalk.domain.enums import TargetKind

MAX_PATH_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class AgentTarget:
    agent: str  # an agent id or name
    kind: ClassVar[TargetKind] = TargetKind.AGENT


@dataclass(frozen=True, slots=True)
class TaskTarget:
    task_id: str
    kind: ClassVar[TargetKind] = TargetKind.TASK


@dataclass(frozen=True, slots=True)
class PhaseTarget:
    phase_id: str
    kind: ClassVar[TargetKind] = TargetKind.PHASE


@dataclass(frozen=True, slots=True)
class FileTarget:
    """Whoever changed ``path`` (relative to the repository root); with ``line``, the
    one whose change covers that line."""

    path: str
    line: int | None = None
    kind: ClassVar[TargetKind] = TargetKind.FILE


Target = AgentTarget | TaskTarget | PhaseTarget | FileTarget


def repo_path(text: str) -> str:
    """``text`` as a normalised repository-relative path (``./src//a.py`` -> ``src/a.py``).
    Raises ``ValueError`` saying what is wrong with it."""
    if not text or not text.strip():
        raise ValueError("a path is required")
    if len(text) > MAX_PATH_LENGTH:
        raise ValueError(f"a path is at most {MAX_PATH_LENGTH} characters")
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in text):
        raise ValueError("a path must not contain control characters")
    if text.startswith("/"):
        raise ValueError(
            f"'{text}' is absolute; give the path relative to the repository root "
            "(cw does that for a path inside a worktree)"
        )
    normal = posixpath.normpath(text)
    if normal == "." or normal == ".." or normal.startswith("../"):
        raise ValueError(f"'{text}' is not a file inside the repository")
    return normal


def covers(lines: Sequence[Sequence[int]], line: int) -> bool:
    """Whether a change over ``lines`` covers ``line`` (a change to the whole file does)."""
    return not lines or any(first <= line <= last for first, last in lines)
