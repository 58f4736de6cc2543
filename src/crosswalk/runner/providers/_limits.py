"""Reset times of usage limits, as the CLIs print them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

#: "resets 6:42pm", "resets 3pm (UTC)", "try again at 6:45 PM.", and with a date:
#: "resets Nov 30, 11:59pm (UTC)", "resets Jun 17, 2027, 5:59pm (UTC)".
_TIME_OF_DAY = re.compile(
    r"(?:resets|try again at)\s+(?:at\s+)?"
    r"(?:(?P<month>[A-Z][a-z]{2})[a-z]*\s+(?P<day>\d{1,2}),\s*(?:(?P<year>\d{4}),\s*)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<meridiem>[ap]m)?",
    re.IGNORECASE,
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_EPOCH_SUFFIX = re.compile(r"usage limit reached\|(\d{9,11})", re.IGNORECASE)


def epoch_seconds(value: object) -> datetime | None:
    """``resetsAt``-style epoch seconds as an aware datetime; None if not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def reset_time_in_text(text: str, now: datetime) -> datetime | None:
    """The reset time a limit message names: ``...limit reached|<epoch s>``, or a time
    of day (taken as UTC, the next such time after ``now``)."""
    epoch = _EPOCH_SUFFIX.search(text)
    if epoch:
        return epoch_seconds(int(epoch.group(1)))
    match = _TIME_OF_DAY.search(text)
    if match is None:
        return None
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    meridiem = (match["meridiem"] or "").lower()
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    now = now.astimezone(UTC)
    candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if match["month"]:
        month = match["month"].lower()
        if month not in _MONTHS:
            return None
        year = int(match["year"]) if match["year"] else now.year
        try:
            dated = candidate.replace(
                year=year, month=_MONTHS.index(month) + 1, day=int(match["day"])
            )
        except ValueError:
            return None
        if dated < now and not match["year"]:
            dated = dated.replace(year=year + 1)
        return dated
    return candidate if candidate > now else candidate + timedelta(days=1)
