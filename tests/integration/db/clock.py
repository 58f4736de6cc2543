"""A deterministic clock for the hierarchy adapters' tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from crosswalk.db.repositories import sqlalchemy as adapters
from crosswalk.domain.timestamps import utcnow


class Clock:
    """``utcnow`` for the adapters under test: 1 ms later on every call, so rows
    get distinct timestamps in creation order and an update always moves
    ``updated_at``, without sleeping."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def install_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (
        adapters._base,
        adapters.initiative,
        adapters.page,
        adapters.phase,
        adapters.project,
        adapters.task,
    ):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock
