"""``cw project``: the git repositories work happens in, and which initiatives use them."""

from __future__ import annotations

from crosswalk.cli._crud import given, send_delete, send_list
from crosswalk.cli._planning import label, send_update
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, detail, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("url", "url"),
    ("defaultBranch", "default branch"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("url", "URL", max_width=60),
    Column("defaultBranch", "BRANCH"),
)


def render_project(project: Any) -> str:
    return detail(project, _FIELDS)


def render_link_change(initiative_id: str, change: Any) -> str:
    """What ``link`` did: added, removed, and the resulting set."""
    added = ", ".join(change.get("added") or []) or "nothing new"
    removed = ", ".join(change.get("removed") or []) or "nothing"
    now = change.get("projectIds") or []
    return (
        f"initiative {initiative_id} now uses {len(now)} project(s): {', '.join(now)}\n"
        f"linked: {added}; unlinked: {removed}"
    )


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw project`` and its subcommands."""
    group = add_group(
        subparsers,
        "project",
        help="register git repositories and link them to initiatives",
        description=(
            "A project is a git repository (name and url, each unique). An initiative\n"
            "works in the projects linked to it. Writes need the admin token."
        ),
        examples=[
            "cw project create web git@github.com:acme/web.git",
            "cw project link I7 PR1 PR2",
            "cw project list --initiative I7",
        ],
    )

    create = add_command(
        group,
        "create",
        help="register a git repository",
        description="Register a project. Its name and url must not be taken.",
        examples=[
            "cw project create web git@github.com:acme/web.git",
            "cw project create api https://github.com/acme/api --default-branch trunk --json",
        ],
        handler=cmd_create,
    )
    create.add_argument("name", metavar="NAME", help="the project's unique name")
    # dest git_url: args.url is the crosswalk server's address (--url)
    create.add_argument("git_url", metavar="URL", help="its git url")
    create.add_argument("--default-branch", metavar="BRANCH", help="its main branch (default main)")

    lst = add_command(
        group,
        "list",
        help="list projects, or those of an initiative",
        description=(
            "List projects, oldest first and one page at a time (JSON: {items, nextCursor}).\n"
            "With --initiative: that initiative's projects by name (JSON: a list)."
        ),
        examples=["cw project list", "cw project list --initiative I7 --json"],
        handler=cmd_list,
    )
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only the projects this initiative uses",
        kind="initiative",
    )
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one project",
        description="Show a project: name, url and default branch.",
        examples=["cw project show PR1", "cw project show PR1 --json"],
        handler=cmd_show,
    )
    show.add_argument("id", metavar="PROJECT", help="the project's id")

    upd = add_command(
        group,
        "update",
        help="change a project",
        description="Change the fields given; the rest stay. A taken name or url is refused.",
        examples=[
            "cw project update PR1 --default-branch develop",
            "cw project update PR1 --name web-app --git-url git@github.com:acme/web-app.git",
        ],
        handler=cmd_update,
    )
    upd.add_argument("id", metavar="PROJECT", help="the project's id")
    upd.add_argument("--name", metavar="NAME", help="a new unique name")
    # not --url: that one names the crosswalk server, on every command
    upd.add_argument("--git-url", metavar="URL", help="a new git url")
    upd.add_argument("--default-branch", metavar="BRANCH", help="its main branch")

    delete = add_command(
        group,
        "delete",
        help="delete a project",
        description=(
            "Delete a project. Its links to initiatives go with it (the initiatives stay);\n"
            "the output counts them."
        ),
        examples=["cw project delete PR1", "cw project delete PR1 --json"],
        handler=cmd_delete,
    )
    delete.add_argument("id", metavar="PROJECT", help="the project's id")

    link = add_command(
        group,
        "link",
        help="set exactly which projects an initiative uses",
        description=(
            "Make PROJECTs exactly the initiative's projects: link the missing ones and\n"
            "unlink any other (links kept are not touched). Prints what changed.\n"
            "To drop one project only, use 'cw project unlink'."
        ),
        examples=["cw project link I7 PR1 PR2", "cw project link I7 PR1 --json"],
        handler=cmd_link,
    )
    ref_argument(link, "initiative", metavar="INITIATIVE", help="the initiative", kind="initiative")
    link.add_argument("projects", nargs="+", metavar="PROJECT", help="the project ids it uses")

    unlink = add_command(
        group,
        "unlink",
        help="stop an initiative using some projects",
        description="Unlink each PROJECT from the initiative; one that is not linked is refused.",
        examples=["cw project unlink I7 PR2", "cw project unlink I7 PR1 PR2 --json"],
        handler=cmd_unlink,
    )
    ref_argument(
        unlink, "initiative", metavar="INITIATIVE", help="the initiative", kind="initiative"
    )
    unlink.add_argument("projects", nargs="+", metavar="PROJECT", help="the project ids to drop")


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(name=args.name, url=args.git_url, defaultBranch=args.default_branch)
    project = ctx.client.mutation("project.create", payload)
    ctx.emit(project, lambda p: f"created project {label(p)}: {p.get('url')}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    if args.initiative is not None:
        projects = ctx.client.query("project.forInitiative", {"initiativeId": args.initiative})
        empty = f"initiative {args.initiative} uses no projects"
        ctx.emit(projects, lambda rows: table(rows, _COLUMNS) if rows else empty)
        return EXIT_OK
    return send_list(ctx, args, "project", {}, (), _COLUMNS, empty="no projects yet")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("project.get", {"id": args.id}), render_project)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    fields = given(name=args.name, url=args.git_url, defaultBranch=args.default_branch)
    return send_update(ctx, "project", {"id": args.id, **fields})


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "project", args.id)


def cmd_link(args: argparse.Namespace, ctx: Context) -> int:
    change = ctx.client.mutation(
        "project.setForInitiative",
        {"initiativeId": args.initiative, "projectIds": list(args.projects)},
    )
    ctx.emit(change, lambda c: render_link_change(args.initiative, c))
    return EXIT_OK


def cmd_unlink(args: argparse.Namespace, ctx: Context) -> int:
    """One request per project: each unlink either happens or is refused by name."""
    remaining: Any = None
    for project_id in dict.fromkeys(args.projects):
        remaining = ctx.client.mutation(
            "project.removeFromInitiative",
            {"initiativeId": args.initiative, "projectId": project_id},
        )
    ctx.emit(
        remaining,
        lambda rows: (
            f"unlinked {', '.join(args.projects)} from initiative {args.initiative}; "
            f"it now uses {len(rows)} project(s)"
        ),
    )
    return EXIT_OK
