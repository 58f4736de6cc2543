"""``cw phase``: the stages of an initiative, and which stage waits for which."""

from __future__ import annotations

from crosswalk.cli._crud import given, send_delete, send_list
from crosswalk.cli._planning import (
    add_content_options,
    add_dependency_commands,
    label,
    put_content,
    send_update,
    text_from_document,
)
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, detail, indent

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

STATUSES = ("pending", "approved", "in_progress", "completed", "blocked")

_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("initiativeId", "initiative"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("status", "STATUS"),
    Column("initiativeId", "INITIATIVE"),
    Column("updatedAt", "UPDATED"),
)


def render_phase(phase: Any) -> str:
    """The detail view of ``cw phase show``: fields, then the content as text."""
    text = detail(phase, _FIELDS)
    if phase.get("content") is not None:
        text += "\ncontent:\n" + indent(text_from_document(phase["content"]))
    return text


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw phase`` and its subcommands."""
    group = add_group(
        subparsers,
        "phase",
        help="create, inspect and order the phases of an initiative",
        description=(
            "A phase is one stage of an initiative; its tasks are the work. A phase may\n"
            "depend on others of its initiative ('cw phase dep'). Writes need the admin\n"
            "token; agents may read."
        ),
        examples=[
            'cw phase create --initiative I7 "Backend"',
            "cw phase list --initiative I7",
            "cw phase dep add P2 P1",
        ],
    )

    create = add_command(
        group,
        "create",
        help="create a phase in an initiative",
        description="Create a phase (status pending) in an initiative.",
        examples=[
            'cw phase create --initiative I7 "Backend"',
            'cw phase create --initiative I7 "Design" --content-file design.md',
            'cw phase create --initiative I7 "Spec" --content-file spec.json --json',
        ],
        handler=cmd_create,
    )
    create.add_argument("name", metavar="NAME", help="the phase's name")
    ref_argument(
        create,
        "--initiative",
        required=True,
        metavar="INITIATIVE",
        help="its initiative",
        kind="initiative",
    )
    add_content_options(create, "phase", update=False)

    lst = add_command(
        group,
        "list",
        help="list phases, oldest first",
        description=(
            "List phases matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=["cw phase list --initiative I7", "cw phase list --status in_progress --json"],
        handler=cmd_list,
    )
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only phases of this initiative",
        kind="initiative",
    )
    lst.add_argument("--status", choices=STATUSES, help="only phases in this status")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one phase with its content",
        description="Show a phase: status, initiative, and its content as text.",
        examples=["cw phase show P1", "cw phase show P1 --json"],
        handler=cmd_show,
    )
    ref_argument(show, "id", metavar="PHASE", help="the phase", kind="phase")

    upd = add_command(
        group,
        "update",
        help="change a phase",
        description="Change the fields given; the rest stay.",
        examples=[
            "cw phase update P1 --status in_progress",
            'cw phase update P1 --name "API" --content-file notes.md',
            "cw phase update P1 --content ''",
        ],
        handler=cmd_update,
    )
    ref_argument(upd, "id", metavar="PHASE", help="the phase", kind="phase")
    upd.add_argument("--name", metavar="NAME", help="a new name")
    upd.add_argument("--status", choices=STATUSES, help="the phase's status")
    add_content_options(upd, "phase", update=True)

    delete = add_command(
        group,
        "delete",
        help="delete a phase and its tasks",
        description=(
            "Delete a phase. Its tasks (with their subtasks) and every dependency on it\n"
            "go with it; agents and conversations about them stay, detached. The output\n"
            "counts each."
        ),
        examples=["cw phase delete P1", "cw phase delete P1 --json"],
        handler=cmd_delete,
    )
    ref_argument(delete, "id", metavar="PHASE", help="the phase", kind="phase")

    add_dependency_commands(group, "phase", ("P2", "P1"))


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {"initiativeId": args.initiative, "name": args.name}
    put_content(ctx, args, payload)
    phase = ctx.client.mutation("phase.create", payload)
    ctx.emit(phase, lambda p: f"created phase {label(p)} in initiative {p.get('initiativeId')}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"initiativeId": args.initiative, "status": args.status}
    flags = ("initiative", "status")
    return send_list(ctx, args, "phase", filters, flags, _COLUMNS, empty="no phases match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("phase.get", {"id": args.id}), render_phase)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {"id": args.id, **given(name=args.name, status=args.status)}
    put_content(ctx, args, payload)
    return send_update(ctx, "phase", payload)


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "phase", args.id)
