"""Pieces the planning command groups share (initiative, phase, task, project, page).

- one-line confirmations that name a row as ``'name' (id)``;
- ``update`` commands that send only the fields given;
- ``dep add|rm|list`` for the two dependency graphs (phases, tasks), declared once;
- document content: ``--content TEXT`` or ``--content-file PATH|-`` becomes a Tiptap
  document (a file holding Tiptap JSON is sent as it is), and ``show`` renders a
  Tiptap document back as plain text.

Standard library only, like the rest of the client path.
"""

from __future__ import annotations

import json

from crosswalk.cli._crud import read_source
from crosswalk.cli.commands import add_command, add_group, ref_argument
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import Column, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def label(row: Any) -> str:
    """``'name' (id)``, or just the id when the row has no name or title."""
    if not isinstance(row, dict):
        return str(row)
    name = row.get("name") or row.get("title")
    return f"'{name}' ({row.get('id')})" if name else str(row.get("id"))


def send_update(ctx: Context, kind: str, payload: dict[str, Any]) -> int:
    """``{kind}.update`` with the fields given; prints the row (``--json``) or a line
    naming what changed. Nothing to change is a usage error, not a silent no-op."""
    if len(payload) == 1:
        raise UsageError("nothing to change: give at least one field option (see --help)")
    row = ctx.client.mutation(f"{kind}.update", payload)
    changed = ", ".join(sorted(key for key in payload if key != "id"))
    ctx.emit(row, lambda r: f"updated {kind} {label(r)}: {changed}")
    return EXIT_OK


# -- dependencies ------------------------------------------------------------------------

_DEPENDENCY_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("status", "STATUS"),
)


def add_dependency_commands(subparsers: Subparsers, kind: str, sample: Sequence[str]) -> None:
    """``cw {kind} dep add|rm|list``; ``sample`` is two ids for the examples."""
    later, earlier = sample
    upper = kind.upper()
    group = add_group(
        subparsers,
        "dep",
        help=f"make {kind}s wait for each other",
        description=(
            f"A {kind} that depends on another waits until that one is completed.\n"
            "A dependency that would close a cycle is refused, showing the cycle."
        ),
        examples=[
            f"cw {kind} dep add {later} {earlier}",
            f"cw {kind} dep list {later}",
        ],
    )
    for name, verb, help_line, handler in (
        ("add", "depend on", f"make {upper} wait for DEPENDS_ON", _cmd_dep_add),
        ("rm", "stop depending on", f"make {upper} stop waiting for DEPENDS_ON", _cmd_dep_rm),
    ):
        parser = add_command(
            group,
            name,
            help=help_line,
            description=f"Make {kind} {upper} {verb} {kind} DEPENDS_ON. Admin only.",
            examples=[f"cw {kind} dep {name} {later} {earlier}"],
            handler=handler,
        )
        parser.set_defaults(kind=kind)
        ref_argument(parser, "id", metavar=upper, help=f"the {kind} that waits", kind=kind)
        ref_argument(
            parser, "depends_on", metavar="DEPENDS_ON", help=f"the {kind} it waits for", kind=kind
        )
    lst = add_command(
        group,
        "list",
        help=f"show what a {kind} waits for and what waits for it",
        description=(
            f"Show the {kind}s {upper} depends on (with their status) and the {kind}s\n"
            "that depend on it. The JSON form is {dependencies, dependents}."
        ),
        examples=[f"cw {kind} dep list {later}", f"cw {kind} dep list {later} --json"],
        handler=_cmd_dep_list,
    )
    lst.set_defaults(kind=kind)
    ref_argument(lst, "id", metavar=upper, help=f"the {kind}", kind=kind)


def _dependency_payload(args: argparse.Namespace) -> dict[str, str]:
    kind = args.kind
    return {f"{kind}Id": args.id, f"dependsOn{kind.title()}Id": args.depends_on}


def _cmd_dep_add(args: argparse.Namespace, ctx: Context) -> int:
    edge = ctx.client.mutation(f"{args.kind}.addDependency", _dependency_payload(args))
    ctx.emit(edge, lambda _: _edge_line(ctx, args, "now depends on"))
    return EXIT_OK


def _cmd_dep_rm(args: argparse.Namespace, ctx: Context) -> int:
    result = ctx.client.mutation(f"{args.kind}.removeDependency", _dependency_payload(args))
    ctx.emit(result, lambda _: _edge_line(ctx, args, "no longer depends on"))
    return EXIT_OK


def _edge_line(ctx: Context, args: argparse.Namespace, verb: str) -> str:
    from crosswalk.cli.refs import name_of

    kind = args.kind
    return f"{kind} {name_of(ctx, args.id)} {verb} {kind} {name_of(ctx, args.depends_on)}"


def _cmd_dep_list(args: argparse.Namespace, ctx: Context) -> int:
    both = {
        "dependencies": ctx.client.query(f"{args.kind}.dependencies", {"id": args.id}),
        "dependents": ctx.client.query(f"{args.kind}.dependents", {"id": args.id}),
    }
    ctx.emit(both, lambda value: render_dependencies(args.kind, args.id, value))
    return EXIT_OK


def render_dependencies(kind: str, id: str, both: Any) -> str:
    parts = []
    for key, heading, none in (
        ("dependencies", f"{kind} {id} depends on:", "nothing"),
        ("dependents", f"{kind}s that depend on {id}:", "none"),
    ):
        rows = both.get(key) or []
        parts.append(heading + "\n" + (table(rows, _DEPENDENCY_COLUMNS) if rows else f"  {none}"))
    return "\n\n".join(parts)


# -- document content ----------------------------------------------------------------------


def add_content_options(parser: argparse.ArgumentParser, what: str, *, update: bool) -> None:
    """``--content TEXT`` / ``--content-file PATH|-`` (one of them)."""
    clear = " ('' clears it)" if update else ""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--content", metavar="TEXT", help=f"the {what}'s text, one paragraph per line{clear}"
    )
    source.add_argument(
        "--content-file",
        metavar="PATH|-",
        help=f"read the {what} from a file (- for stdin): Tiptap JSON, or plain text",
    )


def put_content(ctx: Context, args: argparse.Namespace, payload: dict[str, Any]) -> None:
    """``payload["content"]`` from ``--content`` or ``--content-file`` when one is given:
    a Tiptap document (a file's Tiptap JSON as it is), or ``None`` (clear) for no text."""
    if args.content is not None:
        text, from_file = args.content, False
    elif args.content_file is not None:
        text, from_file = read_source(ctx, args.content_file, "content"), True
    else:
        return
    stripped = text.strip()
    if from_file and stripped.startswith("{"):
        try:
            payload["content"] = json.loads(stripped)
        except ValueError as exc:
            raise UsageError(f"the content file looks like JSON but is not: {exc}") from None
    else:
        payload["content"] = document_from_text(text) if stripped else None


def document_from_text(text: str) -> dict[str, Any]:
    """Plain text as a Tiptap document: one paragraph per line."""
    paragraphs: list[dict[str, Any]] = []
    for line in text.rstrip("\n").split("\n"):
        paragraph: dict[str, Any] = {"type": "paragraph"}
        if line:
            paragraph["content"] = [{"type": "text", "text": line}]
        paragraphs.append(paragraph)
    return {"type": "doc", "content": paragraphs}


def text_from_document(node: Any) -> str:
    """A Tiptap document as readable text: headings marked ``#``, list items ``-``."""
    if node is None:
        return ""
    if not isinstance(node, dict):
        return node if isinstance(node, str) else json.dumps(node)
    return "\n".join(_block_lines(node))


def _block_lines(node: dict[str, Any]) -> list[str]:
    kind = node.get("type")
    children = [child for child in node.get("content") or [] if isinstance(child, dict)]
    if kind in ("doc", "blockquote", "bulletList", "orderedList", "listItem"):
        lines: list[str] = []
        for number, child in enumerate(children, start=1):
            child_lines = _block_lines(child)
            if kind == "blockquote":
                child_lines = ["> " + line for line in child_lines]
            elif kind in ("bulletList", "orderedList") and child_lines:
                marker = f"{number}. " if kind == "orderedList" else "- "
                pad = " " * len(marker)
                child_lines = [marker + child_lines[0], *(pad + line for line in child_lines[1:])]
            lines.extend(child_lines)
        return lines
    text = _inline_text(node)
    if kind == "heading":
        level = node.get("attrs", {}).get("level", 1) if isinstance(node.get("attrs"), dict) else 1
        text = "#" * (level if isinstance(level, int) else 1) + " " + text
    return text.split("\n")


def _inline_text(node: dict[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text", ""))
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(
        _inline_text(child) for child in node.get("content") or [] if isinstance(child, dict)
    )
