"""PostgreSQL ``LISTEN``/``NOTIFY``: how a change committed through one server wakes the
requests parked on every other server of the deployment.

Every server holds one dedicated connection that ``LISTEN``s on :data:`CHANNEL`
(:class:`Listener`, on its own thread, so it needs no event loop and outlives any).
A unit of work sends its change events with ``NOTIFY`` inside its transaction, in the
round trip of its ``COMMIT``, so they are delivered if and only if it commits: one line
per event (its type and ids, statuses, kinds; never row contents) after a line naming
the sending process, split so that no payload reaches PostgreSQL's 8,000-byte limit. A
listener that loses its connection reconnects with a growing delay and then wakes every
local waiter once, so each re-reads the database: whatever was committed during the gap
is found.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
import threading
import time
import typing
from collections.abc import Callable, Iterable, Sequence

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine

from crosswalk.domain.errors import CrosswalkError
from crosswalk.domain.events import Event, is_local

logger = logging.getLogger("crosswalk.server")

CHANNEL = "crosswalk_changes"
MAX_PAYLOAD_BYTES = 7900  # PostgreSQL refuses payloads of 8,000 bytes or more
RECONNECT_DELAYS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0)
START_TIMEOUT_S = 30.0
# Keepalives notice a dead peer (server crash, cut network) that sends no reset.
KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
}


def conninfo_for(engine: Engine) -> str:
    """The libpq connection string of ``engine``'s database (for the listener)."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def payloads(origin: str, keys: Iterable[str]) -> list[str]:
    """``keys`` (one-line strings) as NOTIFY payloads from process ``origin``: one line
    per key after the origin line, split so that no payload exceeds
    :data:`MAX_PAYLOAD_BYTES`."""
    result: list[str] = []
    current = [origin]
    size = len(origin.encode())
    for key in dict.fromkeys(keys):
        length = len(key.encode()) + 1
        if len(current) > 1 and size + length > MAX_PAYLOAD_BYTES:
            result.append("\n".join(current))
            current, size = [origin], len(origin.encode())
        current.append(key)
        size += length
    if len(current) > 1:
        result.append("\n".join(current))
    return result


def parse_payload(payload: str) -> tuple[str, list[str]]:
    """(origin process id, lines) of a payload made by :func:`payloads`."""
    origin, _, rest = payload.partition("\n")
    return origin, [key for key in rest.split("\n") if key]


def notify_statements(connection: Connection, origin: str, keys: Sequence[str]) -> str:
    """The ``pg_notify`` calls that send the lines, as SQL without parameters (the
    payloads quoted as literals), for the unit of work to send with its ``COMMIT`` in one
    round trip: delivered only if and when that transaction commits."""
    driver = connection.connection.driver_connection
    return "; ".join(
        f"SELECT pg_notify('{CHANNEL}', {sql.quote(payload, driver)})"
        for payload in payloads(origin, keys)
    )


class Listener:
    """One ``LISTEN`` connection on its own thread, handing each payload to ``deliver``
    and calling ``resync`` after every reconnection."""

    def __init__(
        self,
        conninfo: str,
        deliver: Callable[[str], None],
        resync: Callable[[], None],
        *,
        channel: str = CHANNEL,
    ) -> None:
        self._conninfo = conninfo
        self._deliver = deliver
        self._resync = resync
        self._channel = channel
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._first_error: str | None = None
        self.reconnections = 0  # how many times it came back after a loss

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start listening; returns once ``LISTEN`` is in place, so no change committed
        after this can be missed. ``CrosswalkError`` when the database is unreachable."""
        self._thread = threading.Thread(target=self._run, name="crosswalk-pg-listener", daemon=True)
        self._thread.start()
        if not self._listening.wait(timeout_s):
            self.stop()
            raise CrosswalkError(
                f"cannot LISTEN for changes on the database: {self._first_error or 'timed out'}"
            )

    def stop(self) -> None:
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                conninfo = psycopg.conninfo.make_conninfo(self._conninfo, **KEEPALIVES)
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {self._channel}")
                    came_back = attempt > 0
                    self._listening.set()
                    attempt = 0
                    if came_back:
                        self.reconnections += 1
                        logger.warning("listening for changes again; re-checking every waiter")
                        self._resync()
                    while not self._stopping.is_set():
                        for notification in conn.notifies(timeout=0.5):
                            self._deliver(notification.payload)
            except psycopg.Error as exc:
                self._listening.clear()
                if self._first_error is None:
                    self._first_error = str(exc).strip()
                if self._stopping.is_set():
                    return
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                if attempt == 0:
                    logger.warning("lost the LISTEN connection (%s); reconnecting", exc)
                attempt += 1
                time.sleep(delay)


# --- change events on the wire ------------------------------------------------------


def _event_types() -> dict[str, type[Event]]:
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = [Event]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            pending.append(sub)
    return found


EVENT_TYPES = _event_types()


def encode_event(event: Event) -> str:
    """One JSON line: the event's type name and its fields (enums as their values)."""
    fields = {
        field.name: _plain(getattr(event, field.name))
        for field in dataclasses.fields(event)
        if not is_local(field)
    }
    return json.dumps({"type": type(event).__name__, **fields}, separators=(",", ":"))


def decode_event(line: str) -> Event | None:
    """The event :func:`encode_event` wrote, or None for a type this version does not
    know (a newer server during a rolling upgrade)."""
    try:
        data = json.loads(line)
        cls = EVENT_TYPES.get(data.pop("type"))
        if cls is None:
            return None
        hints = typing.get_type_hints(cls)
        values = {}
        for field in dataclasses.fields(cls):
            if is_local(field):
                continue  # stays on the server that made it (its default: None)
            value = data[field.name]
            hint = hints[field.name]
            if isinstance(hint, type) and issubclass(hint, enum.Enum) and value is not None:
                value = hint(value)
            values[field.name] = value
        return cls(**values)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value
