"""Long polls and idempotent sends for commands that wait (``ask``, ``wait``, ``listen``).

A waiting command must survive a server restart without losing its place: it retries
with a short, growing delay (``deadline.Backoff``) and keeps its overall deadline
(``deadline.Deadline``).
"""

from __future__ import annotations

from collections.abc import Callable

from crosswalk.cli.deadline import Deadline
from crosswalk.cli.errors import (
    ClientError,
    RemoteError,
    RequestTimeoutError,
    TimedOutError,
    UnreachableError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any

    from crosswalk.cli.context import Context

#: Longest single long poll. Shorter than common proxy idle limits (30-60 s), and a
#: restarted server is noticed within one poll.
LONG_POLL_S = 25.0
#: Extra read time beyond a long poll's own timeout before the client gives up on it.
READ_MARGIN_S = 10.0
#: Server errors that mean "try again shortly" (a server shutting down or restarting).
RETRYABLE_CODES = frozenset({"SERVICE_UNAVAILABLE"})


def long_poll(
    ctx: Context,
    path: str,
    input: dict[str, Any],
    deadline: Deadline,
    *,
    done: Callable[[Any], bool],
    timeout_message: str,
    reached_server: bool = False,
) -> Any:
    """Call the long-poll query ``path`` until ``done(result)`` or the deadline.

    Each round asks the server to hold the request for up to ``LONG_POLL_S``
    (``input["timeoutMs"]`` is filled in). Connection failures are retried with a short
    backoff until the deadline, so a server restart loses nothing; only a first attempt
    that found nothing listening (``reached_server`` false, request never sent) fails at
    once, as exit 4. At the deadline: ``TimedOutError(timeout_message)``.
    """
    backoff = ctx.backoff()
    last_failure: ClientError | None = None
    while True:
        remaining = deadline.remaining()
        poll_s = LONG_POLL_S if remaining is None else min(remaining, LONG_POLL_S)
        started = ctx.now()
        try:
            result = ctx.client.query(
                path,
                {**input, "timeoutMs": round(poll_s * 1000)},
                timeout_s=poll_s + READ_MARGIN_S,
            )
        except (UnreachableError, RequestTimeoutError, RemoteError) as exc:
            if isinstance(exc, RemoteError) and exc.code not in RETRYABLE_CODES:
                raise
            if isinstance(exc, UnreachableError) and not (reached_server or exc.request_sent):
                raise
            reached_server = True
            last_failure = exc
            if deadline.expired:
                break
            backoff.pause(deadline)
            continue
        reached_server = True
        last_failure = None
        if done(result):
            return result
        if deadline.expired:
            break
        if ctx.now() - started < poll_s / 2:
            # The server answered "not yet" long before the poll's timeout (an older
            # server, or one shutting down): slow down instead of spinning.
            backoff.pause(deadline)
        else:
            backoff.reset()
    error = TimedOutError(timeout_message)
    if last_failure is not None:
        error.hint = f"the server was unreachable at the end: {last_failure.message}"
    raise error


def send_idempotent(
    ctx: Context, path: str, payload: dict[str, Any], deadline: Deadline, *, check_hint: str
) -> Any:
    """The mutation ``path``, whose ``payload`` carries a client-made id, retried with
    that same id while its response is lost (the server returns what it stored).

    A first attempt that finds nothing listening fails at once (exit 4): there is no
    server, so there is nothing to retry. Giving up says how to check (``check_hint``).
    """
    backoff = ctx.backoff()
    reached_server = False
    while True:
        try:
            return ctx.client.mutation(path, payload)
        except (UnreachableError, RequestTimeoutError) as exc:
            if isinstance(exc, UnreachableError) and not (reached_server or exc.request_sent):
                raise
            reached_server = True
            if deadline.expired:
                exc.hint = check_hint
                raise
            backoff.pause(deadline)
