"""Fixtures for the database tier: every repository over a real SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.integration.db.clock import Clock, install_clock

from crosswalk.db import Repositories, create_repositories


@pytest.fixture
def repos(engine: Engine) -> Repositories:
    return create_repositories(engine)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Every write of the hierarchy adapters 1 ms after the last (see ``clock.py``)."""
    return install_clock(monkeypatch)
