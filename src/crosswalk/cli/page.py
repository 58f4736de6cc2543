"""``cw page``: an initiative's documents, one tree under a single root page.

Content is a Tiptap document on the server; here it goes in as plain text (one
paragraph per line) or as Tiptap JSON from a file, and ``show`` prints it as text.
A page created without ``--parent`` goes under the initiative's root page, which is
made on first use (titled after the initiative).
"""

from __future__ import annotations

from crosswalk.cli._crud import clearable, given, send_delete, send_list
from crosswalk.cli._planning import (
    add_content_options,
    label,
    put_content,
    send_update,
    text_from_document,
)
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, command_arg, detail, indent

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

_FIELDS = (
    ("id", "id"),
    ("title", "title"),
    ("initiativeId", "initiative"),
    ("parentPageId", "parent"),
    ("sortOrder", "sort order"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("title", "TITLE", max_width=50),
    Column("parentPageId", "PARENT"),
    Column("sortOrder", "ORDER"),
    Column("updatedAt", "UPDATED"),
)


def render_page_detail(page: Any) -> str:
    """The detail view of ``cw page show``: fields, then the content as text."""
    text = detail(page, _FIELDS)
    text += "\ncontent:\n" + indent(text_from_document(page.get("content")) or "-")
    return text


def render_tree(tree: Any, initiative_id: str) -> str:
    """The page tree as an outline, each page with its id."""
    if tree is None:
        return (
            f"initiative {initiative_id} has no pages yet; create its root with: "
            f"cw page root {command_arg(initiative_id)}"
        )
    lines = [f"{tree.get('title')}  ({tree.get('id')})"]
    _outline(tree.get("children") or [], "", lines)
    return "\n".join(lines)


def _outline(children: list[Any], prefix: str, lines: list[str]) -> None:
    for index, child in enumerate(children):
        last = index == len(children) - 1
        lines.append(
            f"{prefix}{'└── ' if last else '├── '}{child.get('title')}  ({child.get('id')})"
        )
        _outline(child.get("children") or [], prefix + ("    " if last else "│   "), lines)


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw page`` and its subcommands."""
    group = add_group(
        subparsers,
        "page",
        help="write and organise an initiative's pages",
        description=(
            "Pages are an initiative's documents, a tree under one root page. Writes need\n"
            "the admin token; agents may read."
        ),
        examples=[
            'cw page create --initiative I7 "Design notes" --content-file notes.md',
            "cw page tree I7",
            "cw page show PG1",
        ],
    )

    create = add_command(
        group,
        "create",
        help="write a page",
        description=(
            "Create a page under --parent, or under the initiative's root page (made on\n"
            "first use). Content: --content TEXT, or --content-file with Tiptap JSON or text."
        ),
        examples=[
            'cw page create --initiative I7 "Design notes" --content-file notes.md',
            'cw page create --initiative I7 --parent PG2 "Decisions" --sort-order 1',
            'echo "Use argon2id" | cw page create --initiative I7 "Hashing" --content-file -',
        ],
        handler=cmd_create,
    )
    create.add_argument("title", metavar="TITLE", help="the page's title")
    ref_argument(
        create,
        "--initiative",
        required=True,
        metavar="INITIATIVE",
        help="its initiative",
        kind="initiative",
    )
    create.add_argument("--parent", metavar="PAGE_ID", help="its parent page (default: the root)")
    create.add_argument("--sort-order", type=int, metavar="N", help="position among siblings")
    add_content_options(create, "page", update=False)

    lst = add_command(
        group,
        "list",
        help="list pages, oldest first",
        description=(
            "List pages matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=["cw page list --initiative I7", "cw page list --parent PG1 --json"],
        handler=cmd_list,
    )
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only pages of this initiative",
        kind="initiative",
    )
    lst.add_argument("--parent", metavar="PAGE_ID", help="only direct subpages of this page")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one page with its content",
        description="Show a page: where it sits in the tree, and its content as text.",
        examples=["cw page show PG1", "cw page show PG1 --json"],
        handler=cmd_show,
    )
    show.add_argument("id", metavar="PAGE", help="the page's id")

    upd = add_command(
        group,
        "update",
        help="change a page, or move it in the tree",
        description=(
            "Change the fields given; the rest stay. --parent moves the page (not below\n"
            "itself); --content '' clears the content."
        ),
        examples=[
            'cw page update PG3 --title "Decisions (final)"',
            "cw page update PG3 --parent PG2 --sort-order 0",
            "cw page update PG3 --content-file notes.json",
        ],
        handler=cmd_update,
    )
    upd.add_argument("id", metavar="PAGE", help="the page's id")
    upd.add_argument("--title", metavar="TITLE", help="a new title")
    upd.add_argument("--parent", metavar="PAGE_ID", help="move it under this page")
    upd.add_argument("--sort-order", type=int, metavar="N", help="position among siblings")
    add_content_options(upd, "page", update=True)

    delete = add_command(
        group,
        "delete",
        help="delete a page and its subpages",
        description="Delete a page; its subpages, at every depth, go with it (counted).",
        examples=["cw page delete PG3", "cw page delete PG3 --json"],
        handler=cmd_delete,
    )
    delete.add_argument("id", metavar="PAGE", help="the page's id")

    tree = add_command(
        group,
        "tree",
        help="show an initiative's pages as a tree",
        description=(
            "Print the initiative's pages as an outline under the root page, siblings in\n"
            "sort order. The JSON form nests {...page, children: [...]} (null: no pages)."
        ),
        examples=["cw page tree I7", "cw page tree I7 --json"],
        handler=cmd_tree,
    )
    ref_argument(tree, "initiative", metavar="INITIATIVE", help="the initiative", kind="initiative")

    root = add_command(
        group,
        "root",
        help="show an initiative's root page, creating it if missing",
        description=(
            "The initiative's root page; made now (titled --title, else after the\n"
            "initiative) when it has none. Admin only."
        ),
        examples=["cw page root I7", 'cw page root I7 --title "Auth handbook" --json'],
        handler=cmd_root,
    )
    ref_argument(root, "initiative", metavar="INITIATIVE", help="the initiative", kind="initiative")
    root.add_argument("--title", metavar="TITLE", help="the title if the root is created now")


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    parent = args.parent
    if parent is None:
        root = ctx.client.mutation("page.root", {"initiativeId": args.initiative})
        parent = root["id"]
    payload = given(
        initiativeId=args.initiative,
        title=args.title,
        parentPageId=parent,
        sortOrder=args.sort_order,
    )
    put_content(ctx, args, payload)
    page = ctx.client.mutation("page.create", payload)
    ctx.emit(page, lambda p: f"created page {label(p)} under page {p.get('parentPageId')}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"initiativeId": args.initiative, "parentPageId": args.parent}
    flags = ("initiative", "parent")
    return send_list(ctx, args, "page", filters, flags, _COLUMNS, empty="no pages match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("page.get", {"id": args.id}), render_page_detail)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {
        "id": args.id,
        **given(title=args.title, sortOrder=args.sort_order),
    }
    clearable(payload, "parentPageId", args.parent)
    put_content(ctx, args, payload)
    return send_update(ctx, "page", payload)


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "page", args.id)


def cmd_tree(args: argparse.Namespace, ctx: Context) -> int:
    tree = ctx.client.query("page.tree", {"initiativeId": args.initiative})
    ctx.emit(tree, lambda t: render_tree(t, args.initiative))
    return EXIT_OK


def cmd_root(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(initiativeId=args.initiative, title=args.title)
    root = ctx.client.mutation("page.root", payload)
    ctx.emit(root, lambda r: f"root page {label(r)} of initiative {r.get('initiativeId')}")
    return EXIT_OK
