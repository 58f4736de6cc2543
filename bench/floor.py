"""What the 10x target leaves: the floor under a conversation's server CPU, from two
other sections of the same run.

A conversation is four requests, and none can cost the server less than ``health``
does at the same concurrency; its database work cannot cost less than the time spent
inside sqlite3's own calls (the layers benchmark). Their sum is the floor, whatever the
code between them. Beside it: the 10x budget, what it leaves per request for all the
rest (the wire format, the token, validation, the services' and repositories' Python,
serialisation, the long polls), and what the measured conversations spend on it.
"""

from __future__ import annotations

from typing import Any

from bench.report import Column, Section

REQUESTS = 4  # ask, listen, answer, waitForAnswer
TARGET = 10.0


def derive(sections: list[Section]) -> Section | None:
    """The floor per pairs level on SQLite, or None when either input did not run."""
    by_name = {section.name: section for section in sections}
    conversations, layers = by_name.get("conversations"), by_name.get("layers")
    if conversations is None or layers is None:
        return None
    sqlite_us = next(
        (row["conversation"] for row in layers.rows if row["layer"].startswith("sqlite3")), None
    )
    rows = [row for row in conversations.rows if row["database"] == "sqlite"]
    if sqlite_us is None or not rows:
        return None
    section = Section(
        "floor",
        "What the 10x target leaves: the floor under a conversation (SQLite)",
        [
            Column("pairs", "pairs"),
            Column("health_us", "health µs (HTTP)", 0),
            Column("sqlite_us", "inside sqlite3 µs", 0),
            Column("floor_us", "floor µs", 0),
            Column("floor_x", "floor x health", 1),
            Column("budget_us", "10x budget µs", 0),
            Column("left_us", "left per request µs", 0),
            Column("measured_us", "measured µs (best kind)", 0),
            Column("spent_us", "spent per request µs", 0),
        ],
    )
    for pairs in sorted({row["pairs"] for row in rows}):
        level = [row for row in rows if row["pairs"] == pairs]
        health = level[0]["health_us_per_req"]
        floor = REQUESTS * health + sqlite_us
        measured = min(row["server_us_per_op"] for row in level)
        values: dict[str, Any] = {
            "pairs": pairs,
            "health_us": health,
            "sqlite_us": sqlite_us,
            "floor_us": floor,
            "floor_x": floor / health,
            "budget_us": TARGET * health,
            "left_us": (TARGET * health - floor) / REQUESTS,
            "measured_us": measured,
            "spent_us": (measured - floor) / REQUESTS,
        }
        section.rows.append(values)
    section.notes += [
        f"floor = {REQUESTS} x health over HTTP at the same pairs (no request costs less) "
        "+ the time a conversation's service calls spend inside sqlite3's calls (layers). "
        "left per request: what the 10x budget leaves each of the four requests beyond the "
        "floor, for everything else the server does (the wire format, the token, "
        "validation, the services' and repositories' Python, serialisation, parking and "
        "waking the long polls); spent per request: the same measured, from the "
        "cheapest kind at that level.",
        "For comparison, health's own pass through the app (no input, no token, no "
        "database) is the layers benchmark's last row.",
    ]
    return section
