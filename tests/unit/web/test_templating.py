"""How the dashboard shows times, durations and values: escaped, relative, exact."""

from __future__ import annotations

from datetime import UTC, datetime

from crosswalk.server.web.templating import ago, create_environment, duration, exact

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=UTC)


def test_relative_times_and_their_exact_form() -> None:
    assert ago("2026-11-29T11:57:00.000Z", NOW) == "3 min ago"
    assert ago("2026-11-29T11:59:55.000Z", NOW) == "just now"
    assert ago("2026-11-29T14:00:00.000Z", NOW) == "in 2 h"
    assert ago(None, NOW) == ""
    assert exact("2026-11-29T11:57:00.000Z") == "2026-11-29 11:57:00 UTC"


def test_durations() -> None:
    assert [duration(s) for s in (45, 180, 7500, 3 * 86400 + 4 * 3600)] == [
        "45 s",
        "3 min",
        "2 h 5 min",
        "3 d 4 h",
    ]


def test_every_template_escapes_values() -> None:
    env = create_environment()
    rendered = env.from_string("<p>{{ text }}</p>").render(text="<script>alert(1)</script>")
    assert rendered == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    macros = env.get_template("macros.html").module
    shown = str(macros.conversation_rows([_conversation("<b>bold</b>")]))  # type: ignore[attr-defined]
    assert "&lt;b&gt;bold&lt;/b&gt;" in shown
    assert "<b>" not in shown


def _conversation(question: str) -> dict[str, object]:
    return {
        "id": "c1",
        "status": "pending",
        "fromAgentId": "a",
        "fromAgentName": "alpha",
        "toAgentId": "b",
        "toAgentName": "beta",
        "taskName": None,
        "phaseName": None,
        "createdAt": "2026-11-29T11:57:00.000Z",
        "targetKind": "task",
        "question": question,
        "answer": None,
    }
