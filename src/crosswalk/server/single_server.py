"""SQLite serves one ``cw serve`` at a time, and says so.

Waiting is woken inside one server process; on SQLite nothing carries a wake-up
to another process, so a second server on the same file would split the waiters
between them (a question asked through one is heard late, at a timeout, by a
listener parked on the other). The first server therefore holds an exclusive
lock on ``<database>.server-lock`` for its whole life, with its pid and address
written inside; a second one finds the lock taken and refuses to start, naming
the first and pointing to PostgreSQL, where several servers share the work
(``docs/deploy.md``). The operating system drops the lock when the process ends
in any way, ``kill -9`` included, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from crosswalk.domain.errors import ConflictError


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file ``database_url`` names, or None (another database,
    or an in-memory one)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


class SqliteServerLock:
    """The lock one server holds on its SQLite database (see the module docstring)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".server-lock")
        self._fd: int | None = None

    def acquire(self, address: str) -> None:
        """Take the lock and record ``address`` and this pid in it; ``ConflictError``
        naming the running server when another holds it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            # Where no lock file can be made, no database can be opened either:
            # opening it next reports the directory's problem in the user's terms.
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ConflictError(
                f"another crosswalk server ({holder}) already serves the SQLite database "
                f"{self.path.with_name(self.path.name.removesuffix('.server-lock'))}. "
                "SQLite serves one server at a time: point cw at that server, or stop it "
                "first. To run several servers, give them one PostgreSQL database "
                "(cw serve --db postgresql+psycopg://..., see docs/deploy.md)."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "address": address}).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0)
        holder = json.loads(raw)
        return f"pid {int(holder['pid'])}, {holder['address']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "its pid and address are unknown"
