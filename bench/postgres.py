"""The PostgreSQL column of the benchmarks: a throwaway server for the run.

The same throwaway server the test suite starts (``tests/support/postgres.py``:
``initdb`` in a temporary directory, 127.0.0.1, durability off, removed at the end),
so the numbers measure crosswalk on PostgreSQL, not a tuned installation. Each
benchmark gets its own database.
"""

from __future__ import annotations

import itertools

from tests.support.postgres import PostgresServer, PostgresUnavailableError


class BenchPostgres:
    """Started on first use, stopped by :meth:`stop` (``python -m bench`` does both)."""

    def __init__(self) -> None:
        self._server: PostgresServer | None = None
        self.unavailable: str | None = None
        self._names = itertools.count(1)

    def database(self, purpose: str) -> str | None:
        """A new empty database's URL, or None (with ``unavailable`` saying why)."""
        if self.unavailable is not None:
            return None
        if self._server is None:
            try:
                self._server = PostgresServer().start()
            except (PostgresUnavailableError, RuntimeError) as exc:
                self.unavailable = str(exc)
                return None
        return self._server.create_database(f"bench_{purpose}_{next(self._names)}")

    @property
    def pid(self) -> int | None:
        """The PostgreSQL server's own process (its backends are its children)."""
        process = self._server.process if self._server is not None else None
        return process.pid if process is not None else None

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
