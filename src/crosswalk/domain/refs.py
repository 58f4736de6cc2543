"""Naming a row the way a person types it: its id, its name, or the start of its id.

Ids are 21 random characters; people copy the first few, or use the name they gave.
One rule, for initiatives, phases and tasks alike: an exact id wins; else the one row
with exactly that name; else the one row whose id starts with it. Several rows with
that name, or several ids with that start, is an error listing them (name and id), so
the person can pick; none is NOT_FOUND saying what was tried.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from crosswalk.domain.errors import InvalidInputError, NotFoundError

#: Candidates an ambiguity error lists; a repository is asked for one more, to know
#: whether there are more than it shows.
MAX_CANDIDATES = 10


class Named(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def pick_by_ref(kind: str, ref: str, found: Sequence[N]) -> N:
    """The row ``ref`` names among ``found`` (what the repository's ``find_by_ref``
    returned: the exact id first, then the rows with that name, then the prefixes)."""
    for row in found:
        if row.id == ref:
            return row
    named = [row for row in found if row.name == ref]
    if len(named) == 1:
        return named[0]
    if named:
        raise _ambiguous(kind, ref, named, "are named")
    prefixed = [row for row in found if row.id.startswith(ref)]
    if len(prefixed) == 1:
        return prefixed[0]
    if prefixed:
        raise _ambiguous(kind, ref, prefixed, "have an id starting with")
    raise NotFoundError(
        kind,
        ref,
        f"no {kind} has the id or the name '{ref}', nor an id starting with it; "
        f"list them with: cw {kind} list",
    )


def describe(row: Named) -> str:
    """``'name' (id)``: how an error names a row."""
    return f"'{row.name}' ({row.id})"


def _ambiguous(kind: str, ref: str, rows: Sequence[Named], how: str) -> InvalidInputError:
    shown = ", ".join(describe(row) for row in rows[:MAX_CANDIDATES])
    more = " and more" if len(rows) > MAX_CANDIDATES else ""
    count = f"{len(rows)}{'+' if more else ''}"
    return InvalidInputError(
        f"'{ref}' is ambiguous: {count} {kind}s {how} it: {shown}{more}; give one's id "
        "(or enough of its start to tell it apart)",
        field="ref",
    )
