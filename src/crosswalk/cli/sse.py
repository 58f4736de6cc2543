"""Server-sent events, parsed line by line as the WHATWG spec describes.

Kept apart from the HTTP code so it can be tested on plain strings. Only what tRPC's
``httpSubscriptionLink`` uses matters here: ``event``, ``data`` and ``id`` fields,
comment lines, and blank lines that dispatch. ``retry`` is ignored: ``cw`` chooses its
own reconnect delays.
"""

from __future__ import annotations


class SseEvent:
    """One dispatched event. ``event`` is ``"message"`` when the server named none."""

    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, id: str | None) -> None:
        self.event = event
        self.data = data
        self.id = id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SseEvent):
            return NotImplemented
        return (self.event, self.data, self.id) == (other.event, other.data, other.id)

    def __hash__(self) -> int:
        return hash((self.event, self.data, self.id))

    def __repr__(self) -> str:
        return f"SseEvent({self.event!r}, {self.data!r}, {self.id!r})"


class SseParser:
    """Turns lines into events; feed it one line at a time (with or without its newline)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self.last_event_id: str | None = None

    def feed(self, line: str) -> SseEvent | None:
        """Consume one line; return the event a blank line completes, else ``None``."""
        if line.endswith("\n"):
            line = line[:-1]
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
            self.last_event_id = value
        return None

    def _dispatch(self) -> SseEvent | None:
        # An event with no data line at all is not dispatched (spec step 2); tRPC's
        # `ping` and `return` carry an empty `data:` line, so they still arrive.
        event = None
        if self._data:
            event = SseEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event = ""
        self._data = []
        self._id = None
        return event
