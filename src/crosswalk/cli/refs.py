"""Initiatives, phases and tasks as a person names them: the id, the name, or the start
of the id. Arguments declared with ``commands.ref_argument`` are resolved here, before
the command's handler runs, by the server's one rule (``KIND.resolve``), so every
command accepts the same names and the handler sees ids. The names found are kept so
that what the command prints can show them beside the ids (``name_of``)."""

from __future__ import annotations

from crosswalk.cli.commands import REFS_DEFAULT
from crosswalk.cli.errors import RemoteError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse

    from crosswalk.cli.context import Context


def has_refs(args: argparse.Namespace) -> bool:
    """Whether any argument naming an initiative, phase or task was given."""
    return any(getattr(args, dest, None) for dest, _ in getattr(args, REFS_DEFAULT, ()) or ())


def resolve_refs(args: argparse.Namespace, ctx: Context) -> None:
    """Replace each such argument's value with the id of what it names."""
    for dest, kind in getattr(args, REFS_DEFAULT, ()) or ():
        value = getattr(args, dest, None)
        if isinstance(value, list):
            setattr(args, dest, [resolve(ctx, kind, item) for item in value])
        elif isinstance(value, str) and value:  # '' clears a field: nothing to resolve
            setattr(args, dest, resolve(ctx, kind, value))


def resolve(ctx: Context, kind: str, ref: str) -> str:
    """The id of the ``kind`` that ``ref`` names. A server too old to resolve gets the
    value as it was typed (it then needs the whole id, as it always did)."""
    key = (kind, ref)
    if key not in ctx.resolved:
        try:
            found = ctx.client.query(f"{kind}.resolve", {"ref": ref})
        except RemoteError as exc:
            if exc.code == "NOT_FOUND" and exc.message.startswith("No procedure found"):
                return ref
            raise
        ctx.resolved[key] = found if isinstance(found, dict) else {"id": ref}
    return str(ctx.resolved[key].get("id") or ref)


def name_of(ctx: Context, id: str) -> str:
    """``'name' (id)`` for an id resolved by this command, else the id alone."""
    for found in ctx.resolved.values():
        if found.get("id") == id and found.get("name"):
            return f"'{found['name']}' ({id})"
    return id
