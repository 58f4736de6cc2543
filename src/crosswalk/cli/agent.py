"""``cw agent``: register agents (printing the shell exports they need), inspect and
change them.

``register`` and ``rotate-token`` print ``export CW_AGENT_ID=... CW_TOKEN=...`` lines on
stdout, so ``eval "$(cw agent register ...)"`` sets an agent's shell up in one step; the
token is shown only then. Commands that take an agent accept its id or name and, where
it makes sense, default to the agent you are (``CW_AGENT_ID``).
"""

from __future__ import annotations

from crosswalk.cli._crud import clearable, given, parse_json, read_source, send_delete, send_list
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import Column, detail, indent, to_json

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

STATUSES = ("idle", "running", "waiting_for_input", "stopped", "crashed")
MODES = ("execute", "discuss", "plan", "detail", "refine")

_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("mode", "mode"),
    ("provider", "provider"),
    ("taskId", "task"),
    ("initiativeId", "initiative"),
    ("worktreeId", "worktree"),
    ("accountId", "account"),
    ("sessionId", "session"),
    ("pid", "pid"),
    ("exitCode", "exit code"),
    ("outputFilePath", "output file"),
    ("serverId", "server"),
    ("userDismissedAt", "dismissed"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME"),
    Column("status", "STATUS"),
    Column("mode", "MODE"),
    Column("taskId", "TASK"),
    Column("provider", "PROVIDER"),
    Column("serverId", "SERVER"),
    Column("updatedAt", "UPDATED"),
)


# -- rendering --------------------------------------------------------------------------


def render_agent(agent: Any) -> str:
    """The detail view of ``cw agent show``: fields, result, open questions to the user."""
    text = detail(agent, _FIELDS)
    if agent.get("result") is not None:
        text += "\nresult:\n" + indent(to_json(agent["result"]))
    answering = agent.get("lastAnsweringRun")
    if isinstance(answering, dict):
        state = answering.get("outcome") or "running"
        text += (
            f"\nlast answering run: session {answering.get('sessionNumber')}, "
            f"{len(answering.get('questionIds') or [])} question(s), {state}"
        )
        left = answering.get("leftChanges")
        if left:
            text += "\n  changed in the worktree and left uncommitted: " + ", ".join(map(str, left))
    pending = agent.get("pendingQuestions")
    if pending:
        text += "\npending questions (waiting for the user's reply):"
        for question in pending if isinstance(pending, list) else [pending]:
            if isinstance(question, dict):
                text += (
                    f"\n  {question.get('messageId')} asked {question.get('askedAt')}:\n"
                    + indent(str(question.get("text", "")), "    ")
                )
            else:
                text += "\n" + indent(to_json(question))
    return text


def render_exports(agent: Any, url: str) -> str:
    """The lines an agent's shell needs, safe to ``eval``."""
    import shlex

    return "\n".join(
        f"export {name}={shlex.quote(str(value))}"
        for name, value in (
            ("CW_AGENT_ID", agent["id"]),
            ("CW_TOKEN", agent["token"]),
            ("CW_URL", url),
        )
    )


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw agent`` and its subcommands."""
    group = add_group(
        subparsers,
        "agent",
        help="register, inspect and change agents",
        description=(
            "Agents are the coding processes crosswalk coordinates. Register one to get\n"
            "its id and token, list and show them, change their state, or delete them.\n"
            "An agent is named by its id or its name."
        ),
        examples=[
            'eval "$(cw agent register --task T42 --worktree ../wt-42)"',
            "cw agent list --status running",
            "cw agent show bold-otter",
        ],
    )

    reg = add_command(
        group,
        "register",
        help="register an agent and print the exports its shell needs",
        description=(
            "Create an agent and print the 'export CW_AGENT_ID=... CW_TOKEN=... CW_URL=...'\n"
            "lines its shell needs (with --json: the agent, token included). The token is\n"
            "shown only this once; 'cw agent rotate-token' makes a new one. Without --name\n"
            "the agent gets a fresh adjective-animal name. Needs the admin token."
        ),
        examples=[
            'eval "$(cw agent register --task T42 --worktree ../wt-42)"',
            "cw agent register --name reviewer --mode plan",
            "cw agent register --initiative I7 --json",
        ],
        handler=cmd_register,
    )
    reg.add_argument("--name", metavar="NAME", help="a unique name (default: a fresh alias)")
    ref_argument(reg, "--task", metavar="TASK", help="the task the agent works on", kind="task")
    ref_argument(
        reg,
        "--initiative",
        metavar="INITIATIVE",
        help="its initiative (default: the task's initiative)",
        kind="initiative",
    )
    reg.add_argument("--worktree", metavar="PATH", help="the agent's git worktree (made absolute)")
    reg.add_argument("--provider", metavar="P", help="the agent's provider (default claude)")
    reg.add_argument("--mode", choices=MODES, help="what the agent does (default execute)")
    reg.add_argument("--account", metavar="ACCOUNT_ID", help="the provider account it uses")
    reg.add_argument("--session-id", metavar="S", help="its CLI session id, for resume")

    lst = add_command(
        group,
        "list",
        help="list agents, oldest first",
        description=(
            "List agents matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=[
            "cw agent list",
            "cw agent list --status waiting_for_input",
            "cw agent list --task T42 --json",
        ],
        handler=cmd_list,
    )
    lst.add_argument("--status", choices=STATUSES, help="only agents in this status")
    ref_argument(lst, "--task", metavar="TASK", help="only agents on this task", kind="task")
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only agents in this initiative",
        kind="initiative",
    )
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one agent, with its open questions",
        description=(
            "Show an agent: status, work, process, result, and the questions it waits\n"
            "on the user to answer. Without AGENT: the agent you are (CW_AGENT_ID)."
        ),
        examples=["cw agent show bold-otter", "cw agent show", "cw agent show a1B2c3 --json"],
        handler=cmd_show,
    )
    _agent_arg(show, optional=True)

    upd = add_command(
        group,
        "update",
        help="change an agent's state or assignment",
        description=(
            "Change the fields given; the rest stay. An empty value clears a field\n"
            "(--task ''). An agent's own token may change only its --status (between\n"
            "idle, running and waiting_for_input) and --result; a run's fields (--pid,\n"
            "--session-id, --output-file, --exit-code, --account, --worktree,\n"
            "--provider) are crosswalk's runner's, or the admin's to correct. Without\n"
            "AGENT: the agent you are (CW_AGENT_ID)."
        ),
        examples=[
            "cw agent update --status running",
            "cw agent update bold-otter --pid 4242 --session-id 3f2a9c1e",
            "cw agent update bold-otter --task T43 --mode plan",
            "cw agent update bold-otter --result '{\"ok\": true}' --status stopped",
            "cw agent update bold-otter --task ''",
        ],
        handler=cmd_update,
    )
    _agent_arg(upd, optional=True)
    upd.add_argument("--name", metavar="NAME", help="a new unique name")
    upd.add_argument("--status", choices=STATUSES, help="the agent's status")
    upd.add_argument("--mode", choices=MODES, help="what the agent does")
    ref_argument(
        upd, "--task", metavar="TASK", help="the task it works on ('' for none)", kind="task"
    )
    ref_argument(
        upd,
        "--initiative",
        metavar="INITIATIVE",
        help="its initiative ('' for none)",
        kind="initiative",
    )
    upd.add_argument("--session-id", metavar="S", help="its CLI session id ('' for none)")
    upd.add_argument("--worktree", metavar="PATH", help="its git worktree (made absolute)")
    upd.add_argument("--provider", metavar="P", help="its provider")
    upd.add_argument("--account", metavar="ACCOUNT_ID", help="its account ('' for none)")
    upd.add_argument("--pid", type=_int_or_clear, metavar="PID", help="its process id")
    upd.add_argument("--exit-code", type=_int_or_clear, metavar="N", help="its exit code")
    upd.add_argument(
        "--output-file", metavar="PATH", help="its output file (<data dir>/agents/<id>/...)"
    )
    upd.add_argument(
        "--result", metavar="JSON|-", help="its result as JSON ('-': stdin, '': clear)"
    )
    dismiss = upd.add_mutually_exclusive_group()
    dismiss.add_argument(
        "--dismiss", action="store_true", help="mark it dismissed by the user (now)"
    )
    dismiss.add_argument("--undismiss", action="store_true", help="clear the dismissal")

    delete = add_command(
        group,
        "delete",
        help="delete an agent",
        description=(
            "Delete an agent. Its conversations and proposals go with it, its messages\n"
            "stay without it, and its log is kept; the output counts each. Admin only."
        ),
        examples=["cw agent delete bold-otter", "cw agent delete a1B2c3 --json"],
        handler=cmd_delete,
    )
    _agent_arg(delete)

    rotate = add_command(
        group,
        "rotate-token",
        help="give an agent a new token; the old one stops working",
        description=(
            "Replace an agent's token and print the new exports (as 'register' does).\n"
            "The old token stops working at once. An agent may rotate its own token.\n"
            "Without AGENT: the agent you are (CW_AGENT_ID)."
        ),
        examples=['eval "$(cw agent rotate-token bold-otter)"', "cw agent rotate-token --json"],
        handler=cmd_rotate_token,
    )
    _agent_arg(rotate, optional=True)

    from crosswalk.cli.agent_run import register_run_commands

    register_run_commands(group)


def _agent_arg(parser: argparse.ArgumentParser, *, optional: bool = False) -> None:
    if optional:
        parser.add_argument(
            "agent",
            nargs="?",
            metavar="AGENT",
            help="the agent's id or name (default: $CW_AGENT_ID)",
        )
    else:
        parser.add_argument("agent", metavar="AGENT", help="the agent's id or name")


def _int_or_clear(text: str) -> int | str:
    """argparse type: a whole number, or '' to clear the field."""
    import argparse

    if text == "":
        return ""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or '', got {text!r}") from None


def _which(args: argparse.Namespace, ctx: Context) -> str:
    if args.agent:
        return str(args.agent)
    if ctx.agent_id:
        return ctx.agent_id
    raise UsageError("which agent? give AGENT (an id or name) or set CW_AGENT_ID")


def _absolute(path: str) -> str:
    from pathlib import Path  # already loaded by crosswalk.config

    return str(Path(path).expanduser().absolute())


# -- handlers ---------------------------------------------------------------------------


def cmd_register(args: argparse.Namespace, ctx: Context) -> int:
    """Create the agent; the exports go to stdout, the note about them to stderr."""
    payload = given(
        name=args.name,
        taskId=args.task,
        initiativeId=args.initiative,
        worktreeId=None if args.worktree is None else _absolute(args.worktree),
        provider=args.provider,
        mode=args.mode,
        accountId=args.account,
        sessionId=args.session_id,
    )
    agent = ctx.client.mutation("agent.create", payload)
    _print_token(ctx, agent, f"registered agent {agent.get('name')} ({agent.get('id')})")
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"status": args.status, "taskId": args.task, "initiativeId": args.initiative}
    flags = ("status", "task", "initiative")
    return send_list(ctx, args, "agent", filters, flags, _COLUMNS, empty="no agents match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("agent.get", {"id": _which(args, ctx)}), render_agent)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    """Send only the fields given; '' clears a nullable one."""
    payload: dict[str, Any] = {"id": _which(args, ctx)}
    for key, value in (
        ("name", args.name),
        ("status", args.status),
        ("mode", args.mode),
        ("provider", args.provider),
        ("worktreeId", None if args.worktree is None else _absolute(args.worktree)),
    ):
        if value is not None:
            payload[key] = value
    for key, value in (
        ("taskId", args.task),
        ("initiativeId", args.initiative),
        ("sessionId", args.session_id),
        ("accountId", args.account),
        ("pid", args.pid),
        ("exitCode", args.exit_code),
        ("outputFilePath", args.output_file),
    ):
        clearable(payload, key, value)
    if args.result is not None:
        text = read_source(ctx, "-", "result") if args.result == "-" else args.result
        payload["result"] = parse_json(text, "--result") if text.strip() else None
    if args.dismiss:
        from datetime import UTC, datetime

        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        payload["userDismissedAt"] = now.replace("+00:00", "Z")
    elif args.undismiss:
        payload["userDismissedAt"] = None
    if len(payload) == 1:
        raise UsageError("nothing to change: give at least one field option (see --help)")
    agent = ctx.client.mutation("agent.update", payload)
    changed = ", ".join(sorted(key for key in payload if key != "id"))
    ctx.emit(agent, lambda a: f"updated agent {a.get('name')} ({a.get('id')}): {changed}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "agent", args.agent)


def cmd_rotate_token(args: argparse.Namespace, ctx: Context) -> int:
    agent = ctx.client.mutation("agent.rotateToken", {"id": _which(args, ctx)})
    _print_token(
        ctx,
        agent,
        f"new token for agent {agent.get('name')} ({agent.get('id')}); the old one no longer works",
    )
    return EXIT_OK


def _print_token(ctx: Context, agent: Any, note: str) -> None:
    """The agent with its token: JSON, or the exports (with a note on stderr)."""
    if ctx.json:
        ctx.emit(agent, str)
        return
    ctx.out(render_exports(agent, ctx.url))
    ctx.err(f"{note}; the token is shown only this once")
