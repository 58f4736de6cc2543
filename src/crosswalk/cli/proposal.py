"""``cw proposal``: changes agents propose to pages, phases and tasks; a person accepts
or dismisses them, one at a time or all of an agent's pending ones at once."""

from __future__ import annotations

from crosswalk.cli._crud import (
    clearable,
    given,
    one_stdin,
    parse_json,
    read_source,
    send_delete,
    send_list,
)
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import Column, detail, indent, to_json

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

TARGET_TYPES = ("page", "phase", "task")
STATUSES = ("pending", "accepted", "dismissed")

_FIELDS = (
    ("id", "id"),
    ("title", "title"),
    ("status", "status"),
    ("agentId", "agent"),
    ("initiativeId", "initiative"),
    ("targetType", "target type"),
    ("targetId", "target"),
    ("sortOrder", "sort order"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("status", "STATUS"),
    Column("targetType", "TARGET"),
    Column("targetId", "TARGET ID"),
    Column("agentId", "AGENT"),
    Column("title", "TITLE", max_width=50),
)


def render_proposal(proposal: Any) -> str:
    text = detail(proposal, _FIELDS, blocks=(("summary", "summary"), ("content", "content")))
    if proposal.get("metadata") is not None:
        text += "\nmetadata:\n" + indent(to_json(proposal["metadata"]))
    return text


def _line(verb: str) -> Any:
    return lambda p: f"{verb} proposal {p.get('id')} ({p.get('title')}): {p.get('status')}"


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw proposal`` and its subcommands."""
    group = add_group(
        subparsers,
        "proposal",
        help="propose changes to pages, phases and tasks; accept or dismiss them",
        description=(
            "Agents propose new or changed pages, phases and tasks; a person accepts or\n"
            "dismisses each (or all of an agent's pending proposals at once)."
        ),
        examples=[
            'cw proposal create --initiative I7 --target-type task --title "Add retries"',
            "cw proposal list --status pending",
            "cw proposal accept P1",
        ],
    )
    create = add_command(
        group,
        "create",
        help="propose a change",
        description=(
            "Propose a page, phase or task: a new one (no --target-id) or a change to an\n"
            "existing one. You are the proposing agent (CW_AGENT_ID or --agent)."
        ),
        examples=[
            'cw proposal create --initiative I7 --target-type task --title "Add retries"',
            "cw proposal create --initiative I7 --target-type page --target-id PG3 "
            '--title "Clarify setup" --content - < page.md',
        ],
        handler=cmd_create,
    )
    ref_argument(
        create,
        "--initiative",
        required=True,
        metavar="INITIATIVE",
        help="its initiative",
        kind="initiative",
    )
    create.add_argument(
        "--target-type", required=True, choices=TARGET_TYPES, help="what kind of thing it is"
    )
    create.add_argument("--target-id", metavar="ID", help="the existing thing it changes")
    create.add_argument("--title", required=True, metavar="TEXT", help="a one-line title")
    create.add_argument("--agent", metavar="AGENT", help="the proposing agent ($CW_AGENT_ID)")
    _content_options(create)

    lst = add_command(
        group,
        "list",
        help="list proposals",
        description=(
            "List proposals matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=["cw proposal list --status pending", "cw proposal list --agent bold-otter"],
        handler=cmd_list,
    )
    lst.add_argument("--agent", metavar="AGENT", help="only this agent's proposals")
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only this initiative's proposals",
        kind="initiative",
    )
    lst.add_argument("--status", choices=STATUSES, help="only proposals in this status")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one proposal",
        description="Show a proposal with its summary, content and metadata.",
        examples=["cw proposal show P1", "cw proposal show P1 --json"],
        handler=cmd_show,
    )
    show.add_argument("id", metavar="PROPOSAL_ID", help="the proposal's id")

    upd = add_command(
        group,
        "update",
        help="revise a proposal",
        description=(
            "Change the fields given; the rest stay. An empty value clears an optional\n"
            "field. The proposing agent may revise its own; --status is admin only."
        ),
        examples=[
            'cw proposal update P1 --title "Add retries with backoff"',
            "cw proposal update P1 --content - < revised.md",
            "cw proposal update P1 --summary ''",
        ],
        handler=cmd_update,
    )
    upd.add_argument("id", metavar="PROPOSAL_ID", help="the proposal's id")
    upd.add_argument("--title", metavar="TEXT", help="a new title")
    upd.add_argument("--target-type", choices=TARGET_TYPES, help="what kind of thing it is")
    upd.add_argument("--target-id", metavar="ID", help="the thing it changes ('' for a new one)")
    upd.add_argument("--status", choices=STATUSES, help="its status (prefer accept/dismiss)")
    _content_options(upd)

    delete = add_command(
        group,
        "delete",
        help="withdraw a proposal",
        description="Delete a proposal (its agent or the administrator).",
        examples=["cw proposal delete P1", "cw proposal delete P1 --json"],
        handler=cmd_delete,
    )
    delete.add_argument("id", metavar="PROPOSAL_ID", help="the proposal's id")

    for verb, status, help_line in (
        ("accept", "accepted", "accept a pending proposal (or all of an agent's)"),
        ("dismiss", "dismissed", "dismiss a pending proposal (or all of an agent's)"),
    ):
        decide = add_command(
            group,
            verb,
            help=help_line,
            description=(
                f"Mark a pending proposal {status}, or with --agent every pending proposal\n"
                "of that agent. Only pending proposals can be decided. Admin only."
            ),
            examples=[f"cw proposal {verb} P1", f"cw proposal {verb} --agent bold-otter"],
            handler=cmd_accept if verb == "accept" else cmd_dismiss,
        )
        which = decide.add_mutually_exclusive_group(required=True)
        which.add_argument("id", nargs="?", metavar="PROPOSAL_ID", help="the proposal's id")
        which.add_argument("--agent", metavar="AGENT", help="all of this agent's pending ones")


def _content_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--summary", metavar="TEXT", help="a short summary")
    parser.add_argument("--content", metavar="TEXT|-", help="the markdown body ('-': stdin)")
    parser.add_argument("--metadata", metavar="JSON|-", help="metadata as JSON ('-': stdin)")
    parser.add_argument("--sort-order", type=int, metavar="N", help="its place in a list")


def _content(args: argparse.Namespace, ctx: Context, payload: dict[str, Any]) -> None:
    """--summary, --content, --metadata (and --sort-order); '' clears, '-' reads stdin."""
    one_stdin(args, "content", "metadata")
    clearable(payload, "summary", args.summary)
    if args.content is not None:
        text = read_source(ctx, "-", "content") if args.content == "-" else args.content
        payload["content"] = text or None
    if args.metadata is not None:
        text = read_source(ctx, "-", "metadata") if args.metadata == "-" else args.metadata
        payload["metadata"] = parse_json(text, "--metadata") if text.strip() else None
    if args.sort_order is not None:
        payload["sortOrder"] = args.sort_order


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    agent = args.agent or ctx.agent_id
    if not agent:
        raise UsageError("which agent proposes this? pass --agent or set CW_AGENT_ID")
    payload = given(
        agentId=agent,
        initiativeId=args.initiative,
        targetType=args.target_type,
        targetId=args.target_id,
        title=args.title,
    )
    _content(args, ctx, payload)
    ctx.emit(ctx.client.mutation("proposal.create", payload), _line("created"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"agentId": args.agent, "initiativeId": args.initiative, "status": args.status}
    flags = ("agent", "initiative", "status")
    return send_list(ctx, args, "proposal", filters, flags, _COLUMNS, empty="no proposals match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("proposal.get", {"id": args.id}), render_proposal)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {
        "id": args.id,
        **given(title=args.title, targetType=args.target_type, status=args.status),
    }
    clearable(payload, "targetId", args.target_id)
    _content(args, ctx, payload)
    if len(payload) == 1:
        raise UsageError("nothing to change: give at least one field option (see --help)")
    ctx.emit(ctx.client.mutation("proposal.update", payload), _line("updated"))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "proposal", args.id)


def cmd_accept(args: argparse.Namespace, ctx: Context) -> int:
    return _decide(args, ctx, "accept", "accepted")


def cmd_dismiss(args: argparse.Namespace, ctx: Context) -> int:
    return _decide(args, ctx, "dismiss", "dismissed")


def _decide(args: argparse.Namespace, ctx: Context, verb: str, status: str) -> int:
    if args.id is not None:
        ctx.emit(ctx.client.mutation(f"proposal.{verb}", {"id": args.id}), _line(status))
        return EXIT_OK
    result = ctx.client.mutation(
        "proposal.updateManyByAgent",
        {"agentId": args.agent, "status": "pending", "changes": {"status": status}},
    )
    ctx.emit(
        result,
        lambda r: f"{status} {r.get('updated', 0)} pending proposal(s) of agent {args.agent}",
    )
    return EXIT_OK
