"""Conversation commands: ``ask``, ``wait``, ``listen``, ``answer``, ``conversation get|list``.

These are what agents run from a shell to talk to each other, so they favour being
resumable over being clever: ``ask`` sends a client-made conversation id (retrying a
lost request cannot create a second question), every wait survives a server restart,
and every timeout or interrupt says how to pick up where it left off.
"""

from __future__ import annotations

from crosswalk.cli.asking import (
    Flow,
    ask_and_wait,
    id_arg,
    new_question_id,
    wait_and_print,
)
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument, seconds
from crosswalk.cli.errors import (
    EXIT_OK,
    RemoteError,
    RequestTimeoutError,
    TimedOutError,
    UnreachableError,
    UsageError,
)
from crosswalk.cli.output import Column, command_arg, detail, indent, table
from crosswalk.cli.repo_paths import file_and_line, repo_relative
from crosswalk.cli.waiting import long_poll
from crosswalk.refusals import PHASE_CONFLICT_HINT, file_conflict_hint
from crosswalk.target_kinds import CONVERSATION_KINDS, TARGET_KINDS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

DEFAULT_TIMEOUT_S = 600.0
#: Targets a person may name by id, name or start of id (``commands.ref_argument``).
NAMED_KINDS = ("task", "phase")
#: Subscription errors after which the official tRPC client reconnects (code -32603).
_RECONNECT_CODES = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})


# -- rendering --------------------------------------------------------------------------

_FIELDS = (
    ("id", "id"),
    ("status", "status"),
    ("from", "from"),
    ("to", "to"),
    ("initiativeId", "initiative"),
    ("phaseId", "phase"),
    ("taskId", "task"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("status", "STATUS"),
    Column("from", "FROM"),
    Column("to", "TO"),
    Column("createdAt", "CREATED"),
    Column("question", "QUESTION", max_width=60),
)


def with_parties(conversation: Any, *, ids: bool = True) -> Any:
    """The conversation plus ``from``/``to``: the agents' names (and ids), for people;
    a question without an asking agent was asked by the person."""

    def who(side: str) -> str:
        if side == "from" and conversation.get("fromAgentId") is None:
            return "the person"
        agent_id = str(conversation.get(f"{side}AgentId"))
        name = conversation.get(f"{side}AgentName")
        if not name:
            return agent_id
        return f"{name} ({agent_id})" if ids else str(name)

    return {**conversation, "from": who("from"), "to": who("to")}


def render_conversation(conversation: Any) -> str:
    """The detail view of ``cw conversation show``."""
    return detail(
        with_parties(conversation),
        _FIELDS,
        blocks=(
            ("question", "question"),
            ("answer", "answer"),
            *((("abandonedReason", "abandoned"),) if conversation.get("abandonedReason") else ()),
        ),
    )


def render_question(conversation: Any) -> str:
    """A question as an agent listening for work needs it: who asks, what, how to reply."""
    cid = conversation.get("id")
    where = f" (task {conversation['taskId']})" if conversation.get("taskId") else ""
    asker = with_parties(conversation)["from"]
    if conversation.get("fromAgentId") is not None:
        asker = f"agent {asker}"
    return (
        f"question {cid} from {asker}{where}:\n"
        f"{indent(str(conversation.get('question', '')))}\n"
        f"answer with: cw answer {id_arg(str(cid))} ANSWER"
    )


def render_questions(conversations: Any) -> str:
    return "\n\n".join(render_question(c) for c in conversations)


#: Asking an agent: ``conversation.ask``, then ``conversation.waitForAnswer``.
AGENT_QUESTION = Flow(
    noun="conversation",
    ask_path="conversation.ask",
    wait_path="conversation.waitForAnswer",
    answered=lambda c: isinstance(c, dict) and c.get("status") in ("answered", "abandoned"),
    render=lambda c: str(c.get("answer", "")),
    unanswerable=lambda c: c.get("abandonedReason") if c.get("status") == "abandoned" else None,
    show="cw conversation show",
    resume="cw wait",
    waits_for="an answer to",
)


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add the conversation commands to ``cw``."""
    ask = add_command(
        subparsers,
        "ask",
        help="ask another agent a question and wait for the answer",
        description=(
            "Send a question to an agent (by id or name), to whichever agent works on a\n"
            "task, to the one agent working in a phase, or to the agent of your initiative\n"
            "whose work changed a file (a path relative to the current directory, or to\n"
            "the repository root outside a worktree; with :LINE, the agent whose change\n"
            "covers that line); then wait for the answer and print it. You ask as the\n"
            "agent in CW_AGENT_ID (or --as); with no agent identity and the admin token,\n"
            "the person asks. An idle agent crosswalk runs is resumed in its own session to\n"
            "answer. If the wait times out (exit 3) or is interrupted, the question stays\n"
            "pending and 'cw wait CONVERSATION_ID' resumes waiting.\n"
            "With --user the question goes to the person running crosswalk (see 'cw\n"
            "inbox'); while it waits you are 'waiting_for_input', and a timed-out wait\n"
            "resumes with 'cw message wait MESSAGE_ID'."
        ),
        examples=[
            'cw ask --agent reviewer "Is the schema migration merged?"',
            "cw ask --task T42 --timeout 120 - < question.md",
            'cw ask --phase P7 --no-wait "Who owns the API client?"',
            'cw ask --file src/auth/token.py:42 "Why does the token expire after 300 s?"',
            'cw ask --agent bold-otter --json "Ready for review?"',
            'cw ask --user "Postgres or SQLite for the cache?"',
            'cw ask --task T42 "What did you change in the schema?"   # as the person',
        ],
        handler=cmd_ask,
    )
    target = ask.add_mutually_exclusive_group(required=True)
    for kind in TARGET_KINDS:
        if kind.metavar is None:
            target.add_argument(kind.flag, action="store_true", help=kind.help)
        elif kind.kind in NAMED_KINDS:
            ref_argument(
                ask, kind.flag, metavar=kind.metavar, help=kind.help, group=target, kind=kind.kind
            )
        else:
            target.add_argument(kind.flag, metavar=kind.metavar, help=kind.help)
    _add_timeout(ask, f"seconds to wait for the answer (default {DEFAULT_TIMEOUT_S:g})")
    ask.add_argument(
        "--no-wait",
        action="store_true",
        help="print the conversation id and return at once (hooks deliver the answer)",
    )
    ask.add_argument("question", metavar="QUESTION|-", help="the question; - reads it from stdin")

    wait = add_command(
        subparsers,
        "wait",
        help="wait for the answer to a question asked earlier",
        description=(
            "Resume waiting for the answer to a conversation, e.g. after 'cw ask' timed out\n"
            "or was interrupted, or after 'cw ask --no-wait'. Prints the answer."
        ),
        examples=[
            "cw wait 3cZyJ1k0Yp2vQ8dLmN4aB",
            "cw wait 3cZyJ1k0Yp2vQ8dLmN4aB --timeout 60 --json",
        ],
        handler=cmd_wait,
    )
    wait.add_argument("conversation_id", metavar="CONVERSATION_ID", help="the conversation's id")
    _add_timeout(wait, f"seconds to wait for the answer (default {DEFAULT_TIMEOUT_S:g})")

    listen = add_command(
        subparsers,
        "listen",
        help="wait for questions addressed to me and print them",
        description=(
            "Wait until at least one question addressed to you (CW_AGENT_ID or --as) is\n"
            "pending, print each with its conversation id and asker, and exit. With\n"
            "--follow, keep streaming questions as they arrive (reconnecting after a\n"
            "server restart) until --timeout or Ctrl-C. Exit 3 if no question came."
        ),
        examples=[
            "cw listen",
            "cw listen --timeout 60 --json",
            "cw listen --follow --json",
        ],
        handler=cmd_listen,
    )
    _add_timeout(
        listen,
        f"seconds to wait (default {DEFAULT_TIMEOUT_S:g}; with --follow: until interrupted)",
        default=None,
    )
    listen.add_argument(
        "--follow", action="store_true", help="keep printing questions as they arrive"
    )

    answer = add_command(
        subparsers,
        "answer",
        help="answer a question addressed to me",
        description=(
            "Record the answer to a pending conversation; the waiting asker receives it at\n"
            "once. A conversation is answered only once (a second answer is refused)."
        ),
        examples=[
            'cw answer 3cZyJ1k0Yp2vQ8dLmN4aB "Yes, merged in a1b2c3."',
            "cw answer 3cZyJ1k0Yp2vQ8dLmN4aB - < answer.md",
        ],
        handler=cmd_answer,
    )
    answer.add_argument("conversation_id", metavar="CONVERSATION_ID", help="the conversation's id")
    answer.add_argument("answer", metavar="ANSWER|-", help="the answer; - reads it from stdin")

    group = add_group(
        subparsers,
        "conversation",
        help="inspect conversations",
        description="Show one conversation, or list conversations by agent, status or work item.",
        examples=[
            "cw conversation show 3cZyJ1k0Yp2vQ8dLmN4aB",
            "cw conversation list --agent reviewer --status pending",
        ],
    )
    show = add_command(
        group,
        "show",
        help="show one conversation",
        description=(
            "Show a conversation: who asked whom, about which work, and the answer.\n"
            "'cw conversation get' is the same command under its older name."
        ),
        examples=[
            "cw conversation show 3cZyJ1k0Yp2vQ8dLmN4aB",
            "cw conversation show 3cZyJ1k0Yp2vQ8dLmN4aB --json",
            "cw conversation get 3cZyJ1k0Yp2vQ8dLmN4aB     # the same, by its older name",
        ],
        handler=cmd_conversation_show,
        aliases=["get"],
    )
    show.add_argument("conversation_id", metavar="CONVERSATION_ID", help="the conversation's id")

    lst = add_command(
        group,
        "list",
        help="list conversations, newest pages first",
        description=(
            "List conversations matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=[
            "cw conversation list --status pending",
            "cw conversation list --agent bold-otter --limit 20",
            "cw conversation list --task T42 --json",
        ],
        handler=cmd_conversation_list,
    )
    lst.add_argument("--agent", metavar="AGENT_ID", help="asked by or addressed to this agent")
    lst.add_argument(
        "--status", choices=("pending", "answered", "abandoned"), help="only this status"
    )
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only conversations in this initiative",
        kind="initiative",
    )
    ref_argument(
        lst, "--phase", metavar="PHASE", help="only conversations in this phase", kind="phase"
    )
    ref_argument(
        lst, "--task", metavar="TASK", help="only conversations about this task", kind="task"
    )
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")


def _add_timeout(
    parser: argparse.ArgumentParser, help: str, default: float | None = DEFAULT_TIMEOUT_S
) -> None:
    parser.add_argument("--timeout", type=seconds, default=default, metavar="S", help=help)


# -- handlers ---------------------------------------------------------------------------


def cmd_ask(args: argparse.Namespace, ctx: Context) -> int:
    """Ask, then wait on the same deadline; every exit path names the conversation.
    Without an agent identity the question is the person's (the admin token's)."""
    if args.user:
        ctx.require_agent_id()
        question = ctx.read_text(args.question, "question")
        from crosswalk.cli.message import ask_user  # only ``--user`` needs that module

        return ask_user(ctx, question, args.timeout, no_wait=args.no_wait)
    me = ctx.agent_id
    question = ctx.read_text(args.question, "question")
    payload: dict[str, Any] = {"id": new_question_id(), "question": question}
    if me:
        payload["fromAgentId"] = me
    payload.update(_target(args))
    if args.no_wait and me:
        payload["deliverAnswer"] = True  # the agent's hooks bring the answer (docs/hooks.md)
    show = AGENT_QUESTION.show
    try:
        return ask_and_wait(
            ctx,
            AGENT_QUESTION,
            payload,
            args.timeout,
            no_wait=args.no_wait,
            sent_hint=lambda cid: (
                f"the question may have reached the server as conversation {cid}; "
                f"check with: {show} {id_arg(cid)}"
            ),
            unconfirmed=lambda cid: (
                "interrupted before the server confirmed the question; if it arrived it is "
                f"conversation {cid}: check with: {show} {id_arg(cid)}"
            ),
        )
    except RemoteError as exc:
        if exc.code == "CONFLICT" and args.phase is not None:
            exc.hint = PHASE_CONFLICT_HINT
        if exc.code == "CONFLICT" and args.file is not None:
            exc.hint = file_conflict_hint(command_arg(payload["file"]))
        raise


def _target(args: argparse.Namespace) -> dict[str, Any]:
    """The ask's target fields, from the one target option given."""
    for kind in CONVERSATION_KINDS:
        value = getattr(args, kind.kind, None)  # (``cw mcp`` passes only the kinds it uses)
        if value is None:
            continue
        if kind.kind == "file":
            path, line = file_and_line(value)
            fields: dict[str, Any] = {"file": repo_relative(path)}
            return fields if line is None else {**fields, "line": line}
        return {kind.wire[0]: value}
    raise UsageError("name whom to ask: " + ", ".join(k.flag for k in TARGET_KINDS))


def cmd_wait(args: argparse.Namespace, ctx: Context) -> int:
    """Resume a wait that timed out, was interrupted, or was never started (--no-wait)."""
    return wait_and_print(ctx, AGENT_QUESTION, args.conversation_id, ctx.deadline(args.timeout))


#: Pages ``cw listen`` reads at most (each up to the server's CW_PAGE_SIZE).
MAX_PAGES = 1000


def cmd_listen(args: argparse.Namespace, ctx: Context) -> int:
    """Wait for work addressed to me: one batch (long poll) or a stream (--follow)."""
    me = ctx.require_agent_id()
    if args.follow:
        return _follow_questions(ctx, me, args.timeout)
    timeout = DEFAULT_TIMEOUT_S if args.timeout is None else args.timeout
    questions = long_poll(
        ctx,
        "conversation.listen",
        {"agentId": me},
        ctx.deadline(timeout),
        done=bool,
        timeout_message=(
            f"no question for agent {me} arrived within {timeout:g} s; listen again with: cw listen"
        ),
    )
    # The server answers one page at a time: fetch the rest after the last one.
    page = questions
    for _ in range(MAX_PAGES):
        if not isinstance(page, list) or not page or not isinstance(page[-1], dict):
            break
        page = ctx.client.query(
            "conversation.pending", {"agentId": me, "afterId": page[-1].get("id")}
        )
        questions = [*questions, *(page if isinstance(page, list) else [])]
    ctx.emit(questions, render_questions)
    return EXIT_OK


def cmd_answer(args: argparse.Namespace, ctx: Context) -> int:
    """Answer; ``agentId`` is sent when known so the server can check it is addressed to me."""
    text = ctx.read_text(args.answer, "answer")
    payload: dict[str, Any] = {"id": args.conversation_id, "answer": text}
    if ctx.agent_id:
        payload["agentId"] = ctx.agent_id
    conversation = ctx.client.mutation("conversation.answer", payload)
    ctx.emit(
        conversation,
        lambda c: f"answered conversation {c.get('id')} (asked by {_asker(c)})",
    )
    return EXIT_OK


def _asker(conversation: Any) -> str:
    asker = conversation.get("fromAgentId")
    return "the person" if asker is None else f"agent {asker}"


def cmd_conversation_show(args: argparse.Namespace, ctx: Context) -> int:
    """Show one conversation in full."""
    conversation = ctx.client.query("conversation.get", {"id": args.conversation_id})
    ctx.emit(conversation, render_conversation)
    return EXIT_OK


def cmd_conversation_list(args: argparse.Namespace, ctx: Context) -> int:
    """One page of conversations; only the filters given are sent."""
    filters = {
        "agentId": args.agent,
        "status": args.status,
        "initiativeId": args.initiative,
        "phaseId": args.phase,
        "taskId": args.task,
        "limit": args.limit,
        "cursor": args.cursor,
    }
    page = ctx.client.query(
        "conversation.list", {k: v for k, v in filters.items() if v is not None}
    )
    ctx.emit(page, lambda p: _render_page(p, args))
    return EXIT_OK


# -- the pieces -------------------------------------------------------------------------


def _follow_questions(ctx: Context, me: str, timeout: float | None) -> int:
    """Stream ``conversation.onQuestion``, resuming after the last seen event id.

    Questions already printed are skipped even if a reconnected stream repeats them.
    Ends with 0 when the server ends the stream or the deadline passes after at least
    one question; with ``TimedOutError`` when the deadline passes and none came.
    """
    deadline = ctx.deadline(timeout)
    backoff = ctx.backoff()
    last_event_id: str | None = None
    seen: set[str] = set()
    shown = 0
    first_attempt = True
    reconnecting = False
    while True:
        try:
            stream = ctx.client.subscribe(
                "conversation.onQuestion",
                {"agentId": me},
                last_event_id=last_event_id,
                deadline=deadline.at,
            )
            for event_id, conversation in stream:
                if reconnecting:
                    ctx.err("reconnected")
                    reconnecting = False
                backoff.reset()
                last_event_id = event_id or last_event_id
                cid = conversation.get("id") if isinstance(conversation, dict) else None
                if isinstance(cid, str):
                    if cid in seen:
                        continue
                    seen.add(cid)
                ctx.emit_streamed(conversation, lambda c: render_question(c) + "\n")
                shown += 1
            return EXIT_OK
        except RequestTimeoutError:
            break
        except UnreachableError as exc:
            if first_attempt and not exc.request_sent:
                raise
            reason = exc.message
        except RemoteError as exc:
            if exc.code not in _RECONNECT_CODES:
                raise
            reason = exc.message
        first_attempt = False
        if deadline.expired:
            break
        if not reconnecting:
            ctx.err(f"lost the question stream ({reason}); reconnecting")
            reconnecting = True
        backoff.pause(deadline)
    if shown:
        return EXIT_OK
    raise TimedOutError(
        f"no question for agent {me} arrived within {timeout or 0:g} s; listen again with: "
        "cw listen --follow"
    )


def _render_page(page: Any, args: argparse.Namespace) -> str:
    items = page.get("items", []) if isinstance(page, dict) else []
    rows = [with_parties(item, ids=False) for item in items]
    text = table(rows, _COLUMNS) if rows else "no conversations match"
    cursor = page.get("nextCursor") if isinstance(page, dict) else None
    if cursor:
        text += f"\nmore: {_next_page_command(args, str(cursor))}"
    return text


def _next_page_command(args: argparse.Namespace, cursor: str) -> str:
    import shlex

    words = ["cw", "conversation", "list"]
    for flag in ("agent", "status", "initiative", "phase", "task", "limit"):
        value = getattr(args, flag)
        if value is not None:
            words.append(f"--{flag}={value}")
    words.append(f"--cursor={cursor}")  # `=` keeps a value starting with - a value
    return shlex.join(words)
