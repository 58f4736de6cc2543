"""``cw logs``: agents' raw output, kept after the agent is gone.

``show`` prints the log readably (assistant text, tool calls and their results, one line
each); ``--raw`` prints the chunks as written (JSONL), so ``cw logs show A --raw | jq``
works; ``--json`` prints the chunk objects. ``--follow`` streams the log as the agent
writes it, until the agent stops running. An agent is named by id or name; the
log of a deleted agent is still reachable by the id it was written under.
"""

from __future__ import annotations

from crosswalk.cli.commands import add_command, add_group, positive_int
from crosswalk.cli.errors import EXIT_OK, UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def render_chunks(chunks: Any) -> str:
    """The log as written: each chunk's content, one after another."""
    if not chunks:
        return "(no log)"
    return "\n".join(str(chunk.get("content", "")).rstrip("\n") for chunk in chunks)


def render_readable(chunks: Any) -> str:
    """The log as a person reads it: one line per message, tool call or result."""
    from crosswalk.cli.transcript import render_lines

    lines = [line for chunk in chunks or [] for line in render_lines(str(chunk.get("content")))]
    return "\n".join(lines) if lines else "(no log)"


def register(subparsers: Subparsers) -> None:
    """Add ``cw logs`` and its subcommands."""
    group = add_group(
        subparsers,
        "logs",
        help="append to and read agents' output logs",
        description=(
            "Agents' raw output (JSONL chunks), by session: spawn is session 1, each\n"
            "resume the next. Logs outlive their agent."
        ),
        examples=[
            "cw logs show bold-otter --session 2",
            "some-agent --json | cw logs append bold-otter -",
            "cw logs sessions bold-otter",
        ],
    )
    append = add_command(
        group,
        "append",
        help="append a chunk to an agent's log",
        description=(
            "Append a chunk of output to an agent's log (an agent to its own). Without\n"
            "--session the chunk joins the agent's latest session."
        ),
        examples=[
            "cw logs append bold-otter - < chunk.jsonl",
            """cw logs append bold-otter '{"type":"text","text":"hi"}' --session 2""",
        ],
        handler=cmd_append,
    )
    append.add_argument("agent", metavar="AGENT", help="the agent's id or name")
    append.add_argument("content", metavar="CONTENT|-", help="the chunk; - reads it from stdin")
    append.add_argument(
        "--session", type=positive_int, metavar="N", help="the session it belongs to"
    )

    show = add_command(
        group,
        "show",
        help="print an agent's log",
        description=(
            "Print an agent's log readably: assistant text, tool calls and their results,\n"
            "one line each (--raw: the JSONL as written; one session's with --session).\n"
            "--follow keeps printing as the agent writes, until it stops running."
        ),
        examples=[
            "cw logs show bold-otter --follow",
            "cw logs show bold-otter --raw | jq .type",
            "cw logs show bold-otter --session 1 --json",
        ],
        handler=cmd_show,
    )
    show.add_argument("agent", metavar="AGENT", help="the agent's id or name")
    show.add_argument("--session", type=positive_int, metavar="N", help="only this session")
    show.add_argument("--raw", action="store_true", help="the JSONL as the agent wrote it")
    show.add_argument(
        "--follow", "-f", action="store_true", help="keep printing until the agent stops"
    )

    sessions = add_command(
        group,
        "sessions",
        help="how many sessions an agent has logged",
        description="Print how many sessions the agent has logged (its highest session number).",
        examples=["cw logs sessions bold-otter", "cw logs sessions bold-otter --json"],
        handler=cmd_sessions,
    )
    sessions.add_argument("agent", metavar="AGENT", help="the agent's id or name")

    delete = add_command(
        group,
        "delete",
        help="delete an agent's whole log",
        description="Delete every chunk of an agent's log; prints how many went. Admin only.",
        examples=["cw logs delete bold-otter", "cw logs delete a1B2c3 --json"],
        handler=cmd_delete,
    )
    delete.add_argument("agent", metavar="AGENT", help="the agent's id or name")


def cmd_append(args: argparse.Namespace, ctx: Context) -> int:
    content = ctx.stdin.read() if args.content == "-" else args.content
    if not content:
        raise UsageError("the chunk is empty")
    payload: dict[str, Any] = {"agentId": args.agent, "content": content}
    if args.session is not None:
        payload["sessionNumber"] = args.session
    chunk = ctx.client.mutation("log.append", payload)
    ctx.emit(
        chunk,
        lambda c: (
            f"appended {len(content)} characters to the log of agent "
            f"{c.get('agentName')} (session {c.get('sessionNumber')})"
        ),
    )
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {"agentId": args.agent}
    if args.session is not None:
        payload["sessionNumber"] = args.session
    render = render_chunks if args.raw else render_readable
    if args.follow:
        return _follow(ctx, payload, render)
    ctx.emit(ctx.client.query("log.forAgent", payload), render)
    return EXIT_OK


_RECONNECTS = 20


def _constant(text: str) -> Callable[[Any], str]:
    return lambda _value: text


def _follow(ctx: Context, payload: dict[str, Any], render: Any) -> int:
    """Stream ``log.follow``; on a lost connection resume after the last chunk seen."""
    from crosswalk.cli.errors import RemoteError, UnreachableError

    last_event_id: str | None = None
    backoff = ctx.backoff()
    for _attempt in range(_RECONNECTS):
        try:
            stream = ctx.client.subscribe("log.follow", payload, last_event_id=last_event_id)
            for event_id, chunk in stream:
                last_event_id = event_id or last_event_id
                backoff.reset()
                text: str = render([chunk])
                if ctx.json or text != "(no log)":
                    ctx.emit_streamed(chunk, _constant(text))
            return EXIT_OK
        except UnreachableError as exc:
            if last_event_id is None and not exc.request_sent:
                raise
            reason = exc.message
        except RemoteError as exc:
            if exc.code not in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
                raise
            reason = exc.message
        ctx.err(f"lost the log stream ({reason}); reconnecting")
        backoff.pause(ctx.deadline(None))
    raise UnreachableError(f"the log stream broke off {_RECONNECTS} times; giving up")


def cmd_sessions(args: argparse.Namespace, ctx: Context) -> int:
    result = ctx.client.query("log.sessionCount", {"agentId": args.agent})
    ctx.emit(
        result,
        lambda r: f"agent {args.agent} has logged {r.get('sessionCount')} session(s)",
    )
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    result = ctx.client.mutation("log.deleteForAgent", {"agentId": args.agent})
    ctx.emit(
        result,
        lambda r: (
            f"deleted {(r.get('removed') or {}).get('agentLogChunks', 0)} log chunk(s) "
            f"of agent {args.agent}"
        ),
    )
    return EXIT_OK
