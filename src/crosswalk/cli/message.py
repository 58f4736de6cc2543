"""Messages between agents and the person: ``cw message ...``, ``cw inbox``, ``cw reply``,
and the waiting half of ``cw ask --user``.

An agent asks the person with ``cw ask --user`` and waits for the reply exactly as it
waits for another agent's answer (same timeout, exit codes, resume and restart
behaviour); the person sees what waits for them with ``cw inbox`` and answers with
``cw reply``, which wakes the agent at once.
"""

from __future__ import annotations

from crosswalk.cli._crud import age, given, send_delete, send_list
from crosswalk.cli.asking import Flow, ask_and_wait, id_arg, new_question_id, wait_and_print
from crosswalk.cli.commands import add_command, add_group, positive_int, seconds
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import Column, detail, indent, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

DEFAULT_TIMEOUT_S = 600.0
TYPES = ("question", "info", "error", "response")
STATUSES = ("pending", "read", "responded")

_FIELDS = (
    ("id", "id"),
    ("type", "type"),
    ("status", "status"),
    ("from", "from"),
    ("to", "to"),
    ("requiresResponse", "needs reply"),
    ("parentMessageId", "reply to"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)


def party(message: Any, role: str) -> str:
    """``user`` or ``agent <id>`` for the sender or recipient of ``message``."""
    kind = message.get(f"{role}Type")
    if kind == "user":
        return "user"
    ident = message.get(f"{role}Id")
    return f"agent {ident}" if ident else "agent (deleted)"


_COLUMNS = (
    Column("id", "ID"),
    Column("type", "TYPE"),
    Column("status", "STATUS"),
    Column(lambda m: party(m, "sender"), "FROM"),
    Column(lambda m: party(m, "recipient"), "TO"),
    Column("createdAt", "CREATED"),
    Column("content", "MESSAGE", max_width=50),
)


# -- rendering --------------------------------------------------------------------------


def render_message(message: Any) -> str:
    shown = {**message, "from": party(message, "sender"), "to": party(message, "recipient")}
    return detail(shown, _FIELDS, blocks=(("content", "content"),))


def render_thread(root: Any) -> str:
    """The thread as an indented tree, each message with who, when and what."""
    lines: list[str] = []

    def walk(message: Any, depth: int) -> None:
        pad = "    " * depth
        lines.append(
            f"{pad}{message.get('id')}  {message.get('type')} from {party(message, 'sender')} "
            f"to {party(message, 'recipient')}, {message.get('createdAt')}, "
            f"{message.get('status')}"
        )
        lines.append(indent(str(message.get("content", "")), pad + "  "))
        for reply in message.get("replies") or []:
            walk(reply, depth + 1)

    walk(root, 0)
    return "\n".join(lines)


def render_inbox(messages: Any) -> str:
    if not messages:
        return "nothing is waiting for you"
    columns = (
        Column("id", "ID"),
        Column(lambda m: m.get("senderName") or party(m, "sender"), "FROM"),
        Column(lambda m: age(m.get("createdAt")), "AGE"),
        Column("type", "TYPE"),
        Column(lambda m: "yes" if m.get("requiresResponse") else "no", "REPLY?"),
        Column("content", "MESSAGE", max_width=60),
    )
    return table(messages, columns) + "\nreply with: cw reply MESSAGE_ID ANSWER"


def render_reply(state: Any) -> str:
    """What a waiting agent prints: the person's reply, as written."""
    reply = state.get("reply") if isinstance(state, dict) else None
    if reply is None:
        return "(the question was marked responded without a reply)"
    return str(reply.get("content", ""))


def _responded(state: Any) -> bool:
    question = state.get("question") if isinstance(state, dict) else None
    return isinstance(question, dict) and question.get("status") == "responded"


#: Asking the person: ``message.askUser``, then ``message.waitForReply``.
USER_QUESTION = Flow(
    noun="message",
    ask_path="message.askUser",
    wait_path="message.waitForReply",
    answered=_responded,
    render=render_reply,
    show="cw message show",
    resume="cw message wait",
    waits_for="the user's reply to",
)


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw message``, ``cw inbox`` and ``cw reply``."""
    add_command(
        subparsers,
        "inbox",
        help="show every message waiting for you (the person), oldest first",
        description=(
            "Show the messages agents sent you that are unread or wait for your reply,\n"
            "oldest first, with who sent each, how long ago, and its id for 'cw reply'."
        ),
        examples=["cw inbox", "cw inbox --json"],
        handler=cmd_inbox,
    )

    reply = add_command(
        subparsers,
        "reply",
        help="reply to a message waiting for you; wakes the asking agent",
        description=(
            "Answer a message addressed to you (e.g. a question from 'cw ask --user').\n"
            "The reply is threaded under the message, the message is marked responded,\n"
            "and the agent waiting for it gets the reply at once. An agent that is not\n"
            "waiting gets it at its next hook; one crosswalk ran whose run has ended is\n"
            "resumed in its session with the reply as the prompt. Admin only."
        ),
        examples=[
            'cw reply 3cZyJ1k0Yp2vQ8dLmN4aB "Use PostgreSQL."',
            "cw reply 3cZyJ1k0Yp2vQ8dLmN4aB - < decision.md",
        ],
        handler=cmd_reply,
    )
    reply.add_argument("message_id", metavar="MESSAGE_ID", help="the message's id")
    reply.add_argument("answer", metavar="ANSWER|-", help="the reply; - reads it from stdin")

    group = add_group(
        subparsers,
        "message",
        help="send, inspect and manage messages between agents and the user",
        description=(
            "Messages between agents and the person, threaded by the message they reply\n"
            "to. To ask the person and wait for the answer, use 'cw ask --user'."
        ),
        examples=[
            'cw message send --to-user "Build is green."',
            "cw message thread 3cZyJ1k0Yp2vQ8dLmN4aB",
            "cw message list --to-user --status pending",
        ],
    )
    send = add_command(
        group,
        "send",
        help="send a message",
        description=(
            "Send a message to an agent or to the user. You send as the agent you are\n"
            "(CW_AGENT_ID), or as the user with the admin token and no agent identity."
        ),
        examples=[
            'cw message send --to-user "Tests pass; merging."',
            'cw message send --to reviewer --type error "The build broke."',
            "cw message send --to bold-otter --reply-to 3cZyJ1k0Yp2vQ8dLmN4aB - < note.md",
        ],
        handler=cmd_send,
    )
    to = send.add_mutually_exclusive_group(required=True)
    to.add_argument("--to", metavar="AGENT", help="the receiving agent (id or name)")
    to.add_argument("--to-user", action="store_true", help="send it to the user")
    send.add_argument("--type", choices=TYPES, help="what it is (default info)")
    send.add_argument("--requires-response", action="store_true", help="the recipient should reply")
    send.add_argument("--reply-to", metavar="MESSAGE_ID", help="thread it under this message")
    send.add_argument("content", metavar="TEXT|-", help="the message; - reads it from stdin")

    lst = add_command(
        group,
        "list",
        help="list messages, oldest first",
        description=(
            "List messages matching all the given filters, one page at a time. An agent\n"
            "sees only its own (by default the ones sent to it).\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=[
            "cw message list --to-user --status pending",
            "cw message list --from bold-otter",
            "cw message list --reply-to 3cZyJ1k0Yp2vQ8dLmN4aB --json",
        ],
        handler=cmd_list,
    )
    frm = lst.add_mutually_exclusive_group()
    frm.add_argument("--from", dest="sender", metavar="AGENT", help="sent by this agent")
    frm.add_argument("--from-user", action="store_true", help="sent by the user")
    dest = lst.add_mutually_exclusive_group()
    dest.add_argument("--to", dest="recipient", metavar="AGENT", help="sent to this agent")
    dest.add_argument("--to-user", action="store_true", help="sent to the user")
    lst.add_argument("--status", choices=STATUSES, help="only messages in this status")
    lst.add_argument("--reply-to", metavar="MESSAGE_ID", help="only replies to this message")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one message",
        description="Show a message: who sent it to whom, its status, and its content.",
        examples=["cw message show 3cZyJ1k0Yp2vQ8dLmN4aB", "cw message show 3cZy... --json"],
        handler=cmd_show,
    )
    show.add_argument("id", metavar="MESSAGE_ID", help="the message's id")

    thread = add_command(
        group,
        "thread",
        help="show the whole thread a message belongs to",
        description=(
            "Show the thread the message is part of, from its first message, with every\n"
            "reply indented under the message it answers."
        ),
        examples=["cw message thread 3cZyJ1k0Yp2vQ8dLmN4aB", "cw message thread 3cZy... --json"],
        handler=cmd_thread,
    )
    thread.add_argument("id", metavar="MESSAGE_ID", help="any message of the thread")

    wait = add_command(
        group,
        "wait",
        help="wait for the reply to a question asked with 'cw ask --user'",
        description=(
            "Resume waiting for the user's reply to a question, e.g. after 'cw ask --user'\n"
            "timed out (exit 3) or was interrupted. Prints the reply."
        ),
        examples=[
            "cw message wait 3cZyJ1k0Yp2vQ8dLmN4aB",
            "cw message wait 3cZyJ1k0Yp2vQ8dLmN4aB --timeout 60 --json",
        ],
        handler=cmd_wait,
    )
    wait.add_argument("id", metavar="MESSAGE_ID", help="the question's message id")
    wait.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds to wait for the reply (default {DEFAULT_TIMEOUT_S:g})",
    )

    read = add_command(
        group,
        "read",
        help="mark a message read",
        description=(
            "Mark a pending message read (its recipient: the agent, or the person for\n"
            "messages to the user). A question stays in the inbox until it is replied to."
        ),
        examples=["cw message read 3cZyJ1k0Yp2vQ8dLmN4aB"],
        handler=cmd_read,
    )
    read.add_argument("id", metavar="MESSAGE_ID", help="the message's id")

    upd = add_command(
        group,
        "update",
        help="change a message",
        description="Change the fields given; the rest stay. Admin only.",
        examples=[
            "cw message update 3cZyJ1k0Yp2vQ8dLmN4aB --status read",
            'cw message update 3cZyJ1k0Yp2vQ8dLmN4aB --content "Fixed typo"',
        ],
        handler=cmd_update,
    )
    upd.add_argument("id", metavar="MESSAGE_ID", help="the message's id")
    upd.add_argument("--content", metavar="TEXT|-", help="new content ('-': stdin)")
    upd.add_argument("--type", choices=TYPES, help="what it is")
    upd.add_argument("--status", choices=STATUSES, help="its status")
    needs = upd.add_mutually_exclusive_group()
    needs.add_argument(
        "--requires-response", action="store_true", default=None, help="a reply is expected"
    )
    needs.add_argument(
        "--no-requires-response",
        dest="requires_response",
        action="store_false",
        help="no reply is expected",
    )

    delete = add_command(
        group,
        "delete",
        help="delete a message and its replies",
        description=(
            "Delete a message and every reply below it; an agent waiting for a reply to\n"
            "it stops waiting. Admin only."
        ),
        examples=["cw message delete 3cZyJ1k0Yp2vQ8dLmN4aB"],
        handler=cmd_delete,
    )
    delete.add_argument("id", metavar="MESSAGE_ID", help="the message's id")


# -- asking the user (used by ``cw ask --user``) ----------------------------------------


def ask_user(ctx: Context, question: str, timeout_s: float | None, *, no_wait: bool) -> int:
    """Record the question (as the agent you are), then wait for the person's reply:
    the same flow as ``cw ask`` (``asking.ask_and_wait``)."""
    me = ctx.require_agent_id()

    def check(mid: str) -> str:
        return f"if it arrived it is message {mid}: check with: {USER_QUESTION.show} {id_arg(mid)}"

    return ask_and_wait(
        ctx,
        USER_QUESTION,
        {"id": new_question_id(), "agentId": me, "content": question},
        timeout_s,
        no_wait=no_wait,
        sent_hint=lambda mid: f"the question may have reached the server; {check(mid)}",
        unconfirmed=lambda mid: (
            f"interrupted before the server confirmed the question; {check(mid)}"
        ),
    )


# -- handlers ---------------------------------------------------------------------------


def cmd_inbox(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("message.inbox"), render_inbox)
    return EXIT_OK


def cmd_reply(args: argparse.Namespace, ctx: Context) -> int:
    text = ctx.read_text(args.answer, "reply")
    result = ctx.client.mutation("message.reply", {"id": args.message_id, "content": text})

    def render(r: Any) -> str:
        question = r.get("question") or {}
        return (
            f"replied to message {question.get('id')} from {party(question, 'sender')} "
            f"(reply {(r.get('reply') or {}).get('id')})"
        )

    ctx.emit(result, render)
    return EXIT_OK


def cmd_send(args: argparse.Namespace, ctx: Context) -> int:
    text = ctx.read_text(args.content, "message")
    payload: dict[str, Any] = given(
        content=text,
        senderId=ctx.agent_id,
        recipientId=args.to,
        type=args.type,
        parentMessageId=args.reply_to,
    )
    payload["recipientType"] = "user" if args.to_user else "agent"
    if args.requires_response:
        payload["requiresResponse"] = True
    message = ctx.client.mutation("message.create", payload)
    ctx.emit(
        message,
        lambda m: f"sent message {m.get('id')} to {party(m, 'recipient')}",
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {
        "senderId": args.sender,
        "senderType": "user" if args.from_user else ("agent" if args.sender else None),
        "recipientId": args.recipient,
        "recipientType": "user" if args.to_user else ("agent" if args.recipient else None),
        "status": args.status,
        "parentMessageId": args.reply_to,
    }
    flags = (("from", "sender"), "from-user", ("to", "recipient"), "to-user", "status", "reply-to")
    return send_list(ctx, args, "message", filters, flags, _COLUMNS, empty="no messages match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("message.get", {"id": args.id}), render_message)
    return EXIT_OK


def cmd_thread(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("message.thread", {"id": args.id}), render_thread)
    return EXIT_OK


def cmd_wait(args: argparse.Namespace, ctx: Context) -> int:
    return wait_and_print(ctx, USER_QUESTION, args.id, ctx.deadline(args.timeout))


def cmd_read(args: argparse.Namespace, ctx: Context) -> int:
    message = ctx.client.mutation("message.markRead", {"id": args.id})
    ctx.emit(message, lambda m: f"message {m.get('id')} is {m.get('status')}")
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {
        "id": args.id,
        **given(type=args.type, status=args.status, requiresResponse=args.requires_response),
    }
    if args.content is not None:
        payload["content"] = ctx.read_text(args.content, "content")
    if len(payload) == 1:
        raise UsageError("nothing to change: give at least one field option (see --help)")
    message = ctx.client.mutation("message.update", payload)
    ctx.emit(message, lambda m: f"updated message {m.get('id')}: {m.get('status')}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "message", args.id)
