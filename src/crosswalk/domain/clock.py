"""The clock services and adapters tell time by: wall time, a monotonic count, timers.

Code that decides by time (a long poll's deadline, an agent gone quiet for five minutes)
takes a :class:`Clock` instead of reading ``time`` itself, so tests move time forward
(``tests/unit/services/fake_clock.FakeClock``) instead of sleeping through it.
:data:`SYSTEM_CLOCK` is the real one, the default everywhere.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from crosswalk.domain.timestamps import utcnow


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Wall time: timezone-aware UTC, to the millisecond the database keeps."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines and intervals."""
        ...

    def call_later(self, delay_s: float, callback: Callable[[], object]) -> Timer:
        """Call ``callback`` on the running event loop once ``delay_s`` seconds (of
        :meth:`monotonic`) have passed, unless the timer is cancelled first."""
        ...


class SystemClock:
    """The machine's clocks and the running loop's timers."""

    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay_s: float, callback: Callable[[], object]) -> Timer:
        return asyncio.get_running_loop().call_later(max(delay_s, 0.0), callback)


SYSTEM_CLOCK: Clock = SystemClock()
