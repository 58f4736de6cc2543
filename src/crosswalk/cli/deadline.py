"""Deadlines and retry delays for commands that wait.

The clock and the sleep are injected (``context.Runtime``) so tests run the waiting
loops without real time passing. Standard library only, and importing nothing of the
CLI, so ``context`` and ``waiting`` both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable


class Deadline:
    """A point on the monotonic clock, or never (``seconds=None``)."""

    def __init__(self, clock: Callable[[], float], seconds: float | None) -> None:
        self._clock = clock
        self.at = None if seconds is None else clock() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never negative), or ``None`` for no deadline."""
        return None if self.at is None else max(self.at - self._clock(), 0.0)

    @property
    def expired(self) -> bool:
        return self.at is not None and self._clock() >= self.at


class Backoff:
    """Retry delays that start short (a restart takes well under a second) and cap low."""

    def __init__(
        self, sleep: Callable[[float], None], first_s: float = 0.05, cap_s: float = 1.0
    ) -> None:
        self._sleep = sleep
        self._first_s = first_s
        self._cap_s = cap_s
        self._next_s = first_s

    def reset(self) -> None:
        """Start over at the shortest delay: the server answered."""
        self._next_s = self._first_s

    def pause(self, deadline: Deadline) -> None:
        """Sleep the next delay, never past the deadline."""
        delay = self._next_s
        remaining = deadline.remaining()
        if remaining is not None:
            delay = min(delay, remaining)
        self._next_s = min(self._next_s * 2, self._cap_s)
        if delay > 0:
            self._sleep(delay)
