"""A file as the server knows it: its path relative to the repository root.

``cw ask --file`` and ``cw who`` take a path as a person or an agent types it, relative
to the current directory; inside a git worktree (a directory with ``.git`` above the
file) it is made relative to that worktree's root, so ``src/`` + ``app.py`` asks about
``src/app.py`` wherever in the worktree the command runs.
"""

from __future__ import annotations

import os
from pathlib import Path

from crosswalk.cli.errors import UsageError


def file_and_line(text: str) -> tuple[str, int | None]:
    """``PATH[:LINE]`` split into the path and the line (1 or more), if one is given."""
    path, colon, line = text.rpartition(":")
    if colon and path and line.isdigit():
        if int(line) < 1:
            raise UsageError(f"line {line} in {text!r}: lines are counted from 1")
        return path, int(line)
    return text, None


def repo_relative(path: str, cwd: Path | None = None) -> str:
    """``path`` relative to the root of the git worktree that holds it; as given (made
    POSIX, without ``./``) when no worktree holds it."""
    if not path.strip():
        raise UsageError("the path is empty")
    given = Path(path)
    absolute = Path(os.path.normpath((cwd or Path.cwd()) / given))
    root = next((d for d in absolute.parents if (d / ".git").exists()), None)
    if root is None:
        if given.is_absolute():
            raise UsageError(
                f"{path} is not inside a git worktree; give the path relative to the "
                "repository root"
            )
        return os.path.normpath(path).replace(os.sep, "/")
    return absolute.relative_to(root).as_posix()
