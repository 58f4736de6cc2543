"""Pieces the management command groups share, so every ``cw <entity>`` reads alike.

A list prints an aligned table and, when there is more, the exact command for the next
page; a delete says what went along with the row; a field given as an empty string is
cleared (sent as ``null``); JSON and text arguments can come from a file or stdin.
Standard library only, like the rest of the client path.
"""

from __future__ import annotations

import json
import re

from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import table

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from crosswalk.cli.context import Context
    from crosswalk.cli.output import Column

_CAMEL_WORD = re.compile(r"(?<!^)(?=[A-Z])")


def given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (not ``None``), for a payload of optional filters."""
    return {key: value for key, value in fields.items() if value is not None}


def clearable(payload: dict[str, Any], key: str, value: str | None) -> None:
    """Put ``value`` in ``payload`` if given; an empty string clears the field (``null``)."""
    if value is not None:
        payload[key] = value or None


def render_page(
    page: Any,
    columns: Sequence[Column | str],
    *,
    empty: str,
    next_page: Callable[[str], str] | None = None,
) -> str:
    """A list page as a table, ``empty`` when there is nothing, and the next-page command."""
    items = page.get("items", []) if isinstance(page, dict) else []
    text = table(items, columns) if items else empty
    cursor = page.get("nextCursor") if isinstance(page, dict) else None
    if cursor and next_page is not None:
        text += f"\nmore: {next_page(str(cursor))}"
    return text


def send_list(
    ctx: Context,
    args: argparse.Namespace,
    kind: str,
    filters: Mapping[str, Any],
    flags: Sequence[str | tuple[str, str]],
    columns: Sequence[Column | str],
    *,
    empty: str,
) -> int:
    """``{kind}.list`` with the ``filters`` given plus ``--limit`` and ``--cursor``;
    prints the page as a table and, when there is more, the ``cw {kind} list`` command
    for the next page, repeating the filter ``flags`` (see ``next_page_command``)."""
    page = ctx.client.query(f"{kind}.list", given(**filters, limit=args.limit, cursor=args.cursor))
    words, repeated = ("cw", kind, "list"), (*flags, "limit")
    ctx.emit(
        page,
        lambda p: render_page(
            p,
            columns,
            empty=empty,
            next_page=lambda cursor: next_page_command(words, args, repeated, cursor),
        ),
    )
    return EXIT_OK


def next_page_command(
    words: Sequence[str],
    args: argparse.Namespace,
    flags: Sequence[str | tuple[str, str]],
    cursor: str,
) -> str:
    """``cw ... --flag=value ... --cursor=CURSOR`` repeating the filters given.

    A flag is its name (the attribute is the name with ``_`` for ``-``) or a
    ``(flag, attribute)`` pair when its ``dest`` differs."""
    import shlex

    line = list(words)
    for entry in flags:
        flag, attribute = entry if isinstance(entry, tuple) else (entry, entry.replace("-", "_"))
        value = getattr(args, attribute, None)
        if value is not None and value is not False:
            line.append(f"--{flag}" if value is True else f"--{flag}={value}")
    line.append(f"--cursor={cursor}")  # `=` keeps a value starting with - a value
    return shlex.join(line)


def describe_removed(removed: Mapping[str, Any]) -> str:
    """``removed`` counts in words, e.g. ``2 conversations, 3 messages detached``;
    empty when nothing went along."""
    parts = []
    for key, count in removed.items():
        if count:
            words = _CAMEL_WORD.sub(" ", key).lower().split()
            if count == 1:
                noun = max(i for i, word in enumerate(words) if word not in _PARTICIPLES)
                words[noun] = _singular(words[noun])
            parts.append(f"{count} {' '.join(words)}")
    return ", ".join(parts)


_PARTICIPLES = frozenset({"detached", "kept"})


def _singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") else noun


def send_delete(ctx: Context, kind: str, id: str) -> int:
    """``{kind}.delete``; prints the result (``--json``) or its ``deleted_line``."""
    result = ctx.client.mutation(f"{kind}.delete", {"id": id})
    ctx.emit(result, lambda r: deleted_line(kind, r))
    return EXIT_OK


def deleted_line(kind: str, result: Any) -> str:
    """The one-line confirmation of a delete: what went, and what went with it."""
    if not isinstance(result, dict):
        return f"deleted {kind}"
    row = result.get("deleted") or {}
    label = row.get("name") or row.get("title") or row.get("email")
    what = f"{kind} {result.get('id')}" + (f" ({label})" if label else "")
    along = describe_removed(result.get("removed") or {})
    return f"deleted {what}" + (f"; with it: {along}" if along else "")


def parse_json(text: str, what: str) -> Any:
    """A JSON argument; a usage error naming ``what`` when it does not parse."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} is not valid JSON: {exc}") from None


def read_source(ctx: Context, path: str, what: str) -> str:
    """The text of file ``path``, or stdin for ``-``; a usage error if unreadable."""
    if path == "-":
        return str(ctx.stdin.read())
    from pathlib import Path  # already loaded by crosswalk.config

    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read the {what} from {path}: {reason}") from None


def one_stdin(args: argparse.Namespace, *names: str) -> None:
    """At most one argument may read stdin (``-``)."""
    from_stdin = [name for name in names if getattr(args, name, None) == "-"]
    if len(from_stdin) > 1:
        options = " and ".join("--" + name.replace("_", "-") for name in from_stdin)
        raise UsageError(f"only one input can come from stdin, but {options} both say -")


def age(timestamp: Any, now: float | None = None) -> str:
    """How long ago an API timestamp was, briefly: ``42s``, ``5m``, ``3h``, ``2d``."""
    import time
    from datetime import datetime

    if not isinstance(timestamp, str):
        return "-"
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return "-"
    seconds = max(int((time.time() if now is None else now) - then), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
