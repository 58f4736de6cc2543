"""How ``cw`` shows results: aligned tables and detail views for people, JSON for programs.

``--json`` output is exactly one JSON document (pretty, for one result) or one compact
document per line (for streams), so ``jq`` and agents can rely on its shape. Human output
may change between versions; JSON output follows the API's field names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from crosswalk.visible import visible as visible  # part of how cw shows text

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any

EMPTY = "-"


class Column:
    """A table column: which field (or how to compute it), its header, its widest cell."""

    __slots__ = ("header", "key", "max_width")

    def __init__(
        self,
        key: str | Callable[[Mapping[str, Any]], Any],
        header: str,
        max_width: int | None = None,
    ) -> None:
        self.key = key
        self.header = header
        self.max_width = max_width


def to_json(value: Any, *, compact: bool = False) -> str:
    """One JSON document; ``compact`` gives the single-line form used for JSON lines."""
    if compact:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value, indent=2, ensure_ascii=False)


_PLAIN_ARG = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.,:/@%+=")


def command_arg(value: str) -> str:
    """``value`` as it must be typed in a suggested ``cw`` command: quoted for the shell
    when it holds anything but safe characters, after ``--`` when it starts with ``-``
    (so it is not read as an option)."""
    quoted = (
        value if value and set(value) <= _PLAIN_ARG else "'" + value.replace("'", "'\\''") + "'"
    )
    return f"-- {quoted}" if value.startswith("-") else quoted


def cell(value: Any) -> str:
    """A value as one table cell: one line, ``-`` for nothing."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return to_json(value, compact=True)
    return " ".join(str(value).split())


def truncate(text: str, width: int | None) -> str:
    """``text`` cut to ``width`` characters, marking the cut with an ellipsis."""
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 0)] + "…"


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column | str]) -> str:
    """Rows under headers, columns padded to the widest cell; no trailing spaces."""
    cols = [Column(c, c.upper()) if isinstance(c, str) else c for c in columns]
    grid = [[c.header for c in cols]]
    for row in rows:
        values = [c.key(row) if callable(c.key) else row.get(c.key) for c in cols]
        grid.append([truncate(cell(v), c.max_width) for v, c in zip(values, cols, strict=True)])
    widths = [max(len(line[i]) for line in grid) for i in range(len(cols))]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
        for line in grid
    )


def detail(
    obj: Mapping[str, Any],
    fields: Sequence[tuple[str, str]],
    blocks: Sequence[tuple[str, str]] = (),
) -> str:
    """A record as ``label: value`` lines, then long texts as indented blocks.

    ``fields`` and ``blocks`` are ``(key, label)`` pairs; blocks keep their line breaks.
    """
    width = max((len(label) for _, label in fields), default=0) + 1
    lines = [f"{(label + ':').ljust(width)} {cell(obj.get(key))}" for key, label in fields]
    for key, label in blocks:
        value = obj.get(key)
        lines.append(f"{label}:")
        lines.append(indent(EMPTY if value is None else str(value)))
    return "\n".join(lines)


def indent(text: str, prefix: str = "  ") -> str:
    """Every line of ``text`` indented, so multi-line answers stay readable."""
    return "\n".join(prefix + line if line else line for line in text.splitlines() or [""])
