"""``cw account``: provider logins that agents are handed round-robin. Admin only.

Credentials and config files go in with ``--credentials-file`` / ``--config-file``
(``-`` for stdin) and never come out: the server returns only ``hasCredentials`` and
``hasConfig``, and nothing here prints more than that.
"""

from __future__ import annotations

from crosswalk.cli._crud import given, one_stdin, read_source, send_delete, send_list
from crosswalk.cli.account_import import register_import
from crosswalk.cli.commands import add_command, add_group, positive_int
from crosswalk.cli.errors import EXIT_OK, CliError, UsageError
from crosswalk.cli.output import Column, detail

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

_FIELDS = (
    ("id", "id"),
    ("email", "email"),
    ("provider", "provider"),
    ("isExhausted", "exhausted"),
    ("exhaustedUntil", "exhausted until"),
    ("lastUsedAt", "last used"),
    ("sortOrder", "sort order"),
    ("hasCredentials", "credentials"),
    ("hasConfig", "config"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("email", "EMAIL"),
    Column("provider", "PROVIDER"),
    Column("isExhausted", "EXHAUSTED"),
    Column("exhaustedUntil", "UNTIL"),
    Column("lastUsedAt", "LAST USED"),
    Column("sortOrder", "ORDER"),
    Column("hasCredentials", "CREDENTIALS"),
    Column("hasConfig", "CONFIG"),
)
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class NoAccountError(CliError):
    """``account next`` found every account of the provider exhausted (exit 1)."""


def render_account(account: Any) -> str:
    return detail(account, _FIELDS)


def _line(verb: str) -> Any:
    return lambda a: f"{verb} account {a.get('id')} ({a.get('email')}, {a.get('provider')})"


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw account`` and its subcommands."""
    group = add_group(
        subparsers,
        "account",
        help="manage provider accounts handed to agents round-robin",
        description=(
            "Provider accounts (logins) that agents run under. 'next' hands out the one\n"
            "used least recently; an exhausted account is skipped until its time is up.\n"
            "Credentials and config go in but never come out. Admin only."
        ),
        examples=[
            "cw account import",
            "cw account create dev@example.com --credentials-file ~/.claude/.credentials.json",
            "cw account next --provider claude",
            "cw account exhaust A1 --for 5h",
        ],
    )
    create = add_command(
        group,
        "create",
        help="add an account",
        description=(
            "Add a provider account. The credentials and config files are stored as they\n"
            "are and never shown again (reads say only whether they are set)."
        ),
        examples=[
            "cw account create dev@example.com --credentials-file creds.json",
            "cw account create ops@example.com --provider codex --sort-order 2",
            "cat creds.json | cw account create dev@example.com --credentials-file -",
        ],
        handler=cmd_create,
    )
    create.add_argument("email", metavar="EMAIL", help="the login's email address")
    create.add_argument("--provider", metavar="P", help="its provider (default claude)")
    _secret_options(create)
    create.add_argument("--sort-order", type=int, metavar="N", help="order among never-used ones")

    lst = add_command(
        group,
        "list",
        help="list accounts",
        description=(
            "List accounts (of one provider, if given), one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=["cw account list", "cw account list --provider claude --json"],
        handler=cmd_list,
    )
    lst.add_argument("--provider", metavar="P", help="only this provider's accounts")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one account (never its secrets)",
        description="Show an account: provider, exhaustion, last use, and whether secrets are set.",
        examples=["cw account show A1", "cw account show A1 --json"],
        handler=cmd_show,
    )
    show.add_argument("id", metavar="ACCOUNT_ID", help="the account's id")

    upd = add_command(
        group,
        "update",
        help="change an account",
        description=("Change the fields given; the rest stay. --available ends an exhaustion now."),
        examples=[
            "cw account update A1 --credentials-file new-creds.json",
            "cw account update A1 --available",
            "cw account update A1 --clear-config --sort-order 0",
        ],
        handler=cmd_update,
    )
    upd.add_argument("id", metavar="ACCOUNT_ID", help="the account's id")
    upd.add_argument("--email", metavar="EMAIL", help="a new email address")
    upd.add_argument("--provider", metavar="P", help="a new provider")
    _secret_options(upd)
    upd.add_argument(
        "--clear-credentials", action="store_true", help="remove the stored credentials"
    )
    upd.add_argument("--clear-config", action="store_true", help="remove the stored config")
    upd.add_argument("--sort-order", type=int, metavar="N", help="order among never-used ones")
    upd.add_argument("--available", action="store_true", help="no longer exhausted")

    delete = add_command(
        group,
        "delete",
        help="delete an account",
        description="Delete an account; agents that used it keep running without one.",
        examples=["cw account delete A1", "cw account delete A1 --json"],
        handler=cmd_delete,
    )
    delete.add_argument("id", metavar="ACCOUNT_ID", help="the account's id")

    nxt = add_command(
        group,
        "next",
        help="hand out the account used least recently",
        description=(
            "Pick the provider's available account used least recently (never-used ones\n"
            "first, by sort order) and record it as used now. Exit 1 when every account\n"
            "is exhausted (with --json: prints null)."
        ),
        examples=["cw account next", "cw account next --provider codex --json"],
        handler=cmd_next,
    )
    nxt.add_argument("--provider", metavar="P", default="claude", help="the provider (claude)")

    exhaust = add_command(
        group,
        "exhaust",
        help="mark an account out of quota for a while",
        description=(
            "Mark an account exhausted until a moment (ISO-8601; without a zone: local\n"
            "time) or for a duration (90s, 30m, 5h, 2d). 'next' skips it until then."
        ),
        examples=[
            "cw account exhaust A1 --for 5h",
            "cw account exhaust A1 --until 2026-11-27T09:00:00Z",
        ],
        handler=cmd_exhaust,
    )
    exhaust.add_argument("id", metavar="ACCOUNT_ID", help="the account's id")
    when = exhaust.add_mutually_exclusive_group(required=True)
    when.add_argument("--until", metavar="TIME", help="when the exhaustion ends (ISO-8601)")
    when.add_argument("--for", dest="duration", metavar="DURATION", help="how long (e.g. 5h)")

    register_import(group)

    add_command(
        group,
        "clear-expired",
        help="make accounts whose exhaustion has passed available again",
        description="Clear the exhaustion of every account whose time is up; prints how many.",
        examples=["cw account clear-expired", "cw account clear-expired --json"],
        handler=cmd_clear_expired,
    )


def _secret_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--credentials-file",
        metavar="PATH|-",
        help="the credentials file to store ('-': stdin); never shown again",
    )
    parser.add_argument(
        "--config-file",
        metavar="PATH|-",
        help="the config file to store ('-': stdin); never shown again",
    )


def _secrets(args: argparse.Namespace, ctx: Context, payload: dict[str, Any]) -> None:
    one_stdin(args, "credentials_file", "config_file")
    if args.credentials_file is not None:
        payload["credentials"] = _nonempty(
            read_source(ctx, args.credentials_file, "credentials"), args.credentials_file
        )
    if args.config_file is not None:
        payload["configJson"] = _nonempty(
            read_source(ctx, args.config_file, "config"), args.config_file
        )


def _nonempty(text: str, source: str) -> str:
    if not text.strip():
        raise UsageError(f"{'stdin' if source == '-' else source} is empty")
    return text


def _until(args: argparse.Namespace) -> str:
    """``--until`` or ``--for`` as an ISO-8601 UTC instant."""
    from datetime import UTC, datetime, timedelta

    if args.duration is not None:
        text = args.duration.strip().lower()
        unit = _DURATION_UNITS.get(text[-1:]) if text else None
        number = text[:-1] if unit else text
        try:
            seconds = float(number) * (unit or 1)
        except ValueError:
            seconds = -1.0
        if not seconds > 0 or seconds == float("inf"):
            raise UsageError(f"--for expects a duration such as 90s, 30m, 5h or 2d, got {text!r}")
        moment = datetime.now(UTC) + timedelta(seconds=seconds)
    else:
        try:
            moment = datetime.fromisoformat(args.until.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(
                f"--until expects an ISO-8601 time such as 2026-11-27T09:00:00Z, got {args.until!r}"
            ) from None
        moment = moment.astimezone(UTC)  # a time without a zone is local time
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- handlers ---------------------------------------------------------------------------


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(email=args.email, provider=args.provider, sortOrder=args.sort_order)
    _secrets(args, ctx, payload)
    ctx.emit(ctx.client.mutation("account.create", payload), _line("created"))
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {"provider": args.provider}
    flags = ("provider",)
    return send_list(ctx, args, "account", filters, flags, _COLUMNS, empty="no accounts")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("account.get", {"id": args.id}), render_account)
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    if args.clear_credentials and args.credentials_file is not None:
        raise UsageError("--credentials-file and --clear-credentials contradict each other")
    if args.clear_config and args.config_file is not None:
        raise UsageError("--config-file and --clear-config contradict each other")
    payload: dict[str, Any] = {
        "id": args.id,
        **given(email=args.email, provider=args.provider, sortOrder=args.sort_order),
    }
    _secrets(args, ctx, payload)
    if args.clear_credentials:
        payload["credentials"] = None
    if args.clear_config:
        payload["configJson"] = None
    if args.available:
        payload.update(isExhausted=False, exhaustedUntil=None)
    if len(payload) == 1:
        raise UsageError("nothing to change: give at least one field option (see --help)")
    ctx.emit(ctx.client.mutation("account.update", payload), _line("updated"))
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "account", args.id)


def cmd_next(args: argparse.Namespace, ctx: Context) -> int:
    account = ctx.client.mutation("account.next", {"provider": args.provider})
    if account is None:
        if ctx.json:
            ctx.out("null")
        error = NoAccountError(
            f"no {args.provider} account is available (every one is exhausted, or none exists)"
        )
        error.hint = (
            "see when they free up with 'cw account list', or add one with 'cw account create'"
        )
        raise error
    ctx.emit(account, _line("next:"))
    return EXIT_OK


def cmd_exhaust(args: argparse.Namespace, ctx: Context) -> int:
    account = ctx.client.mutation("account.markExhausted", {"id": args.id, "until": _until(args)})
    ctx.emit(
        account,
        lambda a: (
            f"account {a.get('id')} ({a.get('email')}) is exhausted until {a.get('exhaustedUntil')}"
        ),
    )
    return EXIT_OK


def cmd_clear_expired(args: argparse.Namespace, ctx: Context) -> int:
    result = ctx.client.mutation("account.clearExpired")
    ctx.emit(
        result,
        lambda r: f"{r.get('cleared', 0)} account(s) available again",
    )
    return EXIT_OK
