"""What crosswalk accepts as a branch name or a project URL, before git ever sees it.

Values a person or a client typed reach git's command line: a project's URL (``git
clone``), its default branch and an initiative's branch (``git branch``, ``git
worktree add``). Every call separates them from options with ``--``; these checks make
a bad value a clear error at ``create``/``update`` time instead of a git failure when
an agent starts, and refuse what no ``--`` can make safe (the ``ext::`` transport runs
a command).

:func:`branch_name_problem` is ``git check-ref-format --branch`` without running git
(a test compares the two on many names). Pure: imports only the standard library and
the error tree.
"""

from __future__ import annotations

from crosswalk.domain.errors import InvalidInputError

#: Characters no ref may contain (besides control characters and DEL).
_FORBIDDEN_IN_REF = frozenset(" ~^:?*[\\")


def branch_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a git branch name, or None when it can."""
    if not name:
        return "it is empty"
    if name.startswith("-"):
        return "it starts with '-' (git would read it as an option)"
    if name == "HEAD":
        return "HEAD is not a branch name"
    for char in name:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            return "it contains a control character"
        if char in _FORBIDDEN_IN_REF:
            return f"it contains {char!r} (no space, ~, ^, :, ?, *, [ or \\)"
    if ".." in name:
        return "it contains '..'"
    if "@{" in name:
        return "it contains '@{'"
    if name.endswith("."):
        return "it ends with '.'"
    for component in name.split("/"):
        if not component:
            return "it has an empty part (a leading, trailing or double '/')"
        if component.startswith("."):
            return f"a part starts with '.' ({component!r})"
        if component.endswith(".lock"):
            return f"a part ends with '.lock' ({component!r})"
    return None


def check_branch(name: str | None, field: str) -> None:
    """Raise ``InvalidInputError`` naming ``field`` unless ``name`` (if given) is a
    branch name git takes as one."""
    problem = None if name is None else branch_name_problem(name)
    if problem is not None:
        raise InvalidInputError(
            f"{field}: {name!r} cannot be a git branch name: {problem}", field=field
        )


def check_project_url(url: str | None) -> None:
    """Raise ``InvalidInputError`` naming ``url`` unless ``url`` (if given) is safe to
    hand to ``git clone``."""
    problem = None if url is None else project_url_problem(url)
    if problem is not None:
        raise InvalidInputError(f"url: git will not be given {url!r}: {problem}", field="url")


def project_url_problem(url: str) -> str | None:
    """Why git must not be given ``url`` as a project's repository, or None."""
    if url.startswith("-"):
        return "it starts with '-' (git would read it as an option)"
    if url.lower().startswith("ext::"):
        return "the ext:: transport runs a command; give a path or an ssh/https/git URL"
    return None
