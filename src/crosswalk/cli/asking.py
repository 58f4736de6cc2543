"""The one ask-then-wait flow, for questions to an agent (``cw ask``) and to the person
(``cw ask --user``).

Both send the question with an id made here (so a send whose response is lost is
retried without asking twice), then long-poll for the answer on the same deadline, and
every way out (answered, timed out, interrupted, unreachable) names the question and
the command that resumes the wait. A :class:`Flow` holds what differs between the two:
the procedures, the words and the rendering.
"""

from __future__ import annotations

from collections.abc import Callable

from crosswalk.cli.deadline import Deadline
from crosswalk.cli.errors import EXIT_INTERRUPTED, EXIT_OK, CliError
from crosswalk.cli.output import command_arg
from crosswalk.cli.waiting import long_poll, send_idempotent
from crosswalk.ids import new_id
from crosswalk.refusals import UNANSWERABLE_HINT

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any

    from crosswalk.cli.context import Context

#: How long ``ask --no-wait`` keeps retrying a question whose response was lost.
ASK_RETRY_S = 30.0


def new_question_id() -> str:
    """A fresh id for an idempotent ask, made as the server makes its ids."""
    return new_id()


def id_arg(id: str) -> str:
    """An id as it must be typed on a ``cw`` command line (quoted, ``--`` before ``-x``)."""
    return command_arg(id)


class Flow:
    """What one kind of question needs: where it is sent and waited for, how to tell
    it is answered, the words for its messages, how the answer prints."""

    __slots__ = (
        "answered",
        "ask_path",
        "noun",
        "render",
        "resume",
        "show",
        "unanswerable",
        "wait_path",
        "waits_for",
    )

    def __init__(
        self,
        *,
        noun: str,
        ask_path: str,
        wait_path: str,
        answered: Callable[[Any], bool],
        render: Callable[[Any], str],
        unanswerable: Callable[[Any], str | None] = lambda _: None,
        show: str,
        resume: str,
        waits_for: str,
    ) -> None:
        self.noun = noun  # "conversation", "message"
        self.ask_path = ask_path
        self.wait_path = wait_path
        self.answered = answered
        self.render = render
        #: Why a finished wait got no answer (the agent asked stopped), else None.
        self.unanswerable = unanswerable
        self.show = show  # the command that shows one: "cw conversation show"
        self.resume = resume  # the command that resumes a wait: "cw wait"
        self.waits_for = waits_for  # "an answer to", "the user's reply to"


def ask_and_wait(
    ctx: Context,
    flow: Flow,
    payload: dict[str, Any],
    timeout_s: float | None,
    *,
    no_wait: bool,
    sent_hint: Callable[[str], str],
    unconfirmed: Callable[[str], str],
) -> int:
    """Send ``payload`` (which carries ``id``) to ``flow.ask_path``, retried with the
    same id while the response is lost, then wait for the answer (unless ``no_wait``).

    ``sent_hint(id)`` is the hint when sending gives up, ``unconfirmed(id)`` the message
    when Ctrl-C comes before the server confirmed the question.
    """
    qid = str(payload["id"])
    deadline = ctx.deadline(ASK_RETRY_S if no_wait else timeout_s)
    try:
        sent = send_idempotent(ctx, flow.ask_path, payload, deadline, check_hint=sent_hint(qid))
    except KeyboardInterrupt:
        ctx.err(unconfirmed(qid))
        return EXIT_INTERRUPTED
    qid = str(sent.get("id", qid)) if isinstance(sent, dict) else qid
    notice = sent.get("notice") if isinstance(sent, dict) else None
    if isinstance(notice, str) and notice:
        ctx.err(f"note: {notice}")  # why the answer may be late, said once
    if no_wait:
        ctx.emit(sent, lambda _: qid)
        return EXIT_OK
    return wait_and_print(ctx, flow, qid, deadline, reached_server=True)


def wait_and_print(
    ctx: Context, flow: Flow, qid: str, deadline: Deadline, *, reached_server: bool = False
) -> int:
    """Long-poll ``flow.wait_path`` until answered, the deadline (exit 3) or Ctrl-C."""
    try:
        result = long_poll(
            ctx,
            flow.wait_path,
            {"id": qid},
            deadline,
            done=flow.answered,
            timeout_message=(
                f"timed out waiting for {flow.waits_for} {flow.noun} {qid}; "
                f"resume with: {flow.resume} {id_arg(qid)}"
            ),
            reached_server=reached_server,
        )
    except KeyboardInterrupt:
        ctx.err(
            f"interrupted; the question stays pending as {flow.noun} {qid}. "
            f"Resume waiting with: {flow.resume} {id_arg(qid)}"
        )
        return EXIT_INTERRUPTED
    reason = flow.unanswerable(result)
    if reason is not None:
        if ctx.json:
            ctx.emit(result, flow.render)
        error = CliError(f"{flow.noun} {qid} will not be answered: {reason}")
        error.hint = UNANSWERABLE_HINT
        raise error
    ctx.emit(result, flow.render)
    return EXIT_OK
