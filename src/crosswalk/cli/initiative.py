"""``cw initiative``: create, list, show, change and delete initiatives.

An initiative is the top of a plan (phases, tasks, pages); deleting one deletes that
plan, so ``delete`` says exactly what went with it.
"""

from __future__ import annotations

from crosswalk.cli._crud import clearable, given, send_delete, send_list
from crosswalk.cli._planning import label, send_update
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.initiative_run import register_dispatch
from crosswalk.cli.output import Column, detail

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

STATUSES = ("active", "completed", "archived")

_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("branch", "branch"),
    ("mergeRequiresApproval", "merges need approval"),
    ("autoPush", "pushed after every merge"),
    ("dispatchStatus", "dispatch"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("status", "STATUS"),
    Column("branch", "BRANCH"),
    Column("mergeRequiresApproval", "APPROVAL"),
    Column("createdAt", "CREATED"),
)


def render_initiative(initiative: Any) -> str:
    """The detail view of ``cw initiative show``."""
    return detail(initiative, _FIELDS)


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw initiative`` and its subcommands."""
    group = add_group(
        subparsers,
        "initiative",
        help="create, inspect and change initiatives",
        description=(
            "An initiative is one body of work: its phases, tasks and pages, on its own\n"
            "git branch (cw/<name> unless given). Writes need the admin token; agents\n"
            "may read."
        ),
        examples=[
            'cw initiative create "User auth"',
            "cw initiative list --status active",
            "cw initiative show I7",
        ],
    )

    create = add_command(
        group,
        "create",
        help="create an initiative",
        description=(
            "Create an initiative. Its branch is cw/<slug of the name> (-2, -3... when\n"
            "taken) unless --branch is given. Its tasks' finished work is merged only after\n"
            "a person's approval unless --no-merge-requires-approval (a task may override it).\n"
            "With --auto-push the branch is pushed to each linked project's URL after every\n"
            "merge (see cw initiative push)."
        ),
        examples=[
            'cw initiative create "User auth"',
            'cw initiative create "Billing" --branch feature/billing --no-merge-requires-approval',
            'cw initiative create "Docs" --auto-push --json',
        ],
        handler=cmd_create,
    )
    create.add_argument("name", metavar="NAME", help="the initiative's name")
    create.add_argument("--branch", metavar="BRANCH", help="its git branch (default cw/<slug>)")
    _approval_flag(create)
    _auto_push_flag(create)

    lst = add_command(
        group,
        "list",
        help="list initiatives, oldest first",
        description=(
            "List initiatives, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=["cw initiative list", "cw initiative list --status archived --json"],
        handler=cmd_list,
    )
    lst.add_argument("--status", choices=STATUSES, help="only initiatives in this status")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one initiative",
        description="Show an initiative: status, branch and whether its tasks need approval.",
        examples=["cw initiative show I7", "cw initiative show I7 --json"],
        handler=cmd_show,
    )
    ref_argument(show, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")

    upd = add_command(
        group,
        "update",
        help="change an initiative",
        description=(
            "Change the fields given; the rest stay. --branch '' clears the branch.\n"
            "Changing the approval default does not move tasks already created.\n"
            "--auto-push pushes the branch to the projects after every merge from now on."
        ),
        examples=[
            "cw initiative update I7 --status completed",
            'cw initiative update I7 --name "Auth v2" --branch cw/auth-v2',
            "cw initiative update I7 --no-merge-requires-approval --auto-push",
        ],
        handler=cmd_update,
    )
    ref_argument(upd, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")
    upd.add_argument("--name", metavar="NAME", help="a new name")
    upd.add_argument("--status", choices=STATUSES, help="the initiative's status")
    upd.add_argument("--branch", metavar="BRANCH", help="its git branch ('' for none)")
    _approval_flag(upd)
    _auto_push_flag(upd)

    delete = add_command(
        group,
        "delete",
        help="delete an initiative and its whole plan",
        description=(
            "Delete an initiative. Its phases, tasks, pages, proposals and project links\n"
            "go with it; agents and conversations about it stay, detached. The output\n"
            "counts each."
        ),
        examples=["cw initiative delete I7", "cw initiative delete I7 --json"],
        handler=cmd_delete,
    )
    ref_argument(delete, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")
    register_dispatch(group)


def _approval_flag(parser: argparse.ArgumentParser) -> None:
    import argparse

    parser.add_argument(
        "--merge-requires-approval",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether its tasks' work is merged only after a person approves (default yes)",
    )


def _auto_push_flag(parser: argparse.ArgumentParser) -> None:
    import argparse

    parser.add_argument(
        "--auto-push",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="push its branch to each linked project's URL after every merge (default no)",
    )


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(
        name=args.name,
        branch=args.branch,
        mergeRequiresApproval=args.merge_requires_approval,
        autoPush=args.auto_push,
    )
    initiative = ctx.client.mutation("initiative.create", payload)
    ctx.emit(
        initiative,
        lambda i: f"created initiative {label(i)} on branch {i.get('branch')}",
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"status": args.status}
    flags = ("status",)
    return send_list(
        ctx, args, "initiative", filters, flags, _COLUMNS, empty="no initiatives match"
    )


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("initiative.get", {"id": args.id}), render_initiative)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {
        "id": args.id,
        **given(
            name=args.name,
            status=args.status,
            mergeRequiresApproval=args.merge_requires_approval,
            autoPush=args.auto_push,
        ),
    }
    clearable(payload, "branch", args.branch)
    return send_update(ctx, "initiative", payload)


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "initiative", args.id)
