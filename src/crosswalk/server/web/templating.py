"""The Jinja2 environment of the dashboard: autoescaping on, and the display filters.

Autoescaping is on for every template, so a value (a question holding ``<script>``,
say) is always shown as text; no template marks a value ``|safe``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from crosswalk.domain.enums import LIVE_AGENT_STATUSES


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def ago(value: str | None, now: datetime | None = None) -> str:
    """``"3 min ago"`` (or ``"in 2 h"`` for a time ahead)."""
    moment = parse_iso(value)
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    text = duration(abs(seconds))
    if abs(seconds) < 10:
        return "just now"
    return f"{text} ago" if seconds >= 0 else f"in {text}"


def duration(seconds: int | float | None) -> str:
    """``"45 s"``, ``"3 min"``, ``"2 h 5 min"``, ``"3 d 4 h"``."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def exact(value: str | None) -> str:
    """The exact UTC time, for the hover title."""
    moment = parse_iso(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def money(value: float | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def abbrev(value: int | None) -> str:
    """``"950"``, ``"12.3k"``, ``"4.5M"``: token counts at a glance."""
    if value is None:
        return ""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if value >= limit:
            return f"{value / limit:.1f}".removesuffix(".0") + suffix
    return str(value)


def diff_lines(patch: str | None) -> list[tuple[str, str]]:
    """A file's patch as (kind, text) lines for colouring: ``add``, ``del``, ``hunk``,
    ``ctx``; git's header lines (``diff --git``, ``index``, ``---``/``+++``) are left
    out, since the page names the file, unless they are all there is (a binary file,
    a rename), and then kept as ``meta``."""
    lines = (patch or "").splitlines()
    start = next((n for n, line in enumerate(lines) if line.startswith("@@")), None)
    if start is None:
        return [("meta", line) for line in lines if not line.startswith("diff --git ")]
    kinds = {"+": "add", "-": "del", "@": "hunk", "\\": "meta"}
    return [(kinds.get(line[:1], "ctx"), line) for line in lines[start:]]


def status_label(value: str) -> str:
    return value.replace("_", " ")


def create_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("crosswalk.server.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Any] = {
        "ago": ago,
        "exact": exact,
        "duration": duration,
        "money": money,
        "abbrev": abbrev,
        "diff_lines": diff_lines,
        "status_label": status_label,
    }
    env.filters.update(filters)
    # The domain's status sets, so a page decides as the server does (stop a live
    # agent, resume any other).
    env.globals["LIVE_AGENT_STATUSES"] = LIVE_AGENT_STATUSES
    return env
