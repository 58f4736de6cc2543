"""Server-sent event parsing, on plain strings."""

from __future__ import annotations

from crosswalk.cli.sse import SseEvent, SseParser


def _events(text: str) -> list[SseEvent]:
    """All complete events in ``text``; a trailing one without its blank line is dropped."""
    parser = SseParser()
    events = (parser.feed(line) for line in text.splitlines(keepends=True))
    return [event for event in events if event is not None]


def test_trpc_stream_shapes() -> None:
    stream = (
        "event: connected\ndata: {}\n\n"
        'id: c1\ndata: {"id":"c1"}\n\n'
        "event: ping\ndata: \n\n"
        'data: {"n":1}\n\n'
        "event: return\ndata: \n\n"
    )
    assert _events(stream) == [
        SseEvent("connected", "{}", None),
        SseEvent("message", '{"id":"c1"}', "c1"),
        SseEvent("ping", "", None),
        SseEvent("message", '{"n":1}', None),
        SseEvent("return", "", None),
    ]


def test_multiple_data_lines_join_with_newlines() -> None:
    assert _events("data: a\ndata: b\n\n") == [SseEvent("message", "a\nb", None)]


def test_comments_crlf_and_missing_space() -> None:
    assert _events(": keep-alive\r\nevent:x\r\ndata:1\r\n\r\n") == [SseEvent("x", "1", None)]


def test_block_without_data_is_not_dispatched() -> None:
    assert _events("event: lonely\n\ndata: 2\n\n") == [SseEvent("message", "2", None)]


def test_unfinished_event_is_dropped() -> None:
    assert _events("data: 1\n\ndata: 2\n") == [SseEvent("message", "1", None)]


def test_id_applies_to_its_own_event_and_is_remembered() -> None:
    parser = SseParser()
    for line in ("id: 7\n", "data: x\n"):
        assert parser.feed(line) is None
    assert parser.feed("\n") == SseEvent("message", "x", "7")
    parser.feed("data: y\n")
    assert parser.feed("\n") == SseEvent("message", "y", None)
    assert parser.last_event_id == "7"


def test_id_with_nul_is_ignored_and_unknown_fields_too() -> None:
    assert _events("id: a\0b\nretry: 10\nfoo: bar\ndata: z\n\n") == [SseEvent("message", "z", None)]
