"""A deterministic clock for the adapters' tests, given to them as any clock is."""

from __future__ import annotations

from datetime import datetime, timedelta

from crosswalk.domain.clock import SystemClock
from crosswalk.domain.timestamps import utcnow


class Clock(SystemClock):
    """Wall time 1 ms later on every reading, so rows get distinct timestamps in
    creation order and an update always moves ``updated_at``, without sleeping.
    ``last`` is the time it gave last."""

    def __init__(self) -> None:
        self.last = utcnow()

    def now(self) -> datetime:
        self.last += timedelta(milliseconds=1)
        return self.last
