"""A clock that moves only when a test moves it (``crosswalk.domain.clock.Clock``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crosswalk.domain.clock import Clock, Timer


@dataclass(slots=True)
class FakeTimer:
    due: float
    callback: Callable[[], object]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass(slots=True)
class FakeClock:
    """``advance(s)`` moves both clocks and runs, in order, the timers that fell due."""

    start: datetime = field(default_factory=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    elapsed: float = 0.0
    timers: list[FakeTimer] = field(default_factory=list)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def call_later(self, delay_s: float, callback: Callable[[], object]) -> Timer:
        if delay_s <= 0:  # already due: on the loop's next turn, as a real timer
            return asyncio.get_running_loop().call_soon(callback)
        timer = FakeTimer(self.elapsed + delay_s, callback)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds
        while due := sorted(
            (t for t in self.timers if not t.cancelled and t.due <= self.elapsed),
            key=lambda t: t.due,
        ):
            timer = due[0]
            self.timers.remove(timer)
            timer.callback()
        self.timers = [t for t in self.timers if not t.cancelled]

    @property
    def waiting(self) -> int:
        """Timers set and not yet run or cancelled."""
        return sum(not t.cancelled for t in self.timers)


def _satisfies(clock: FakeClock) -> Clock:
    return clock  # mypy checks the fake against the port


async def turns(count: int = 20) -> None:
    """Let the event loop run ``count`` turns (what a wake-up sets off, done), with no
    time passing."""
    for _ in range(count):
        await asyncio.sleep(0)


async def until(condition: Callable[[], bool], *, turns: int = 1000) -> None:
    """Let the event loop run until ``condition`` holds (a waiter has parked, a task
    has finished): no time passes, so nothing depends on how fast the machine is."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"still not so after {turns} turns of the event loop")
