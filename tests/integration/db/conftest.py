"""Fixtures for the database tier: every repository over a real SQLite file and a real
PostgreSQL database (each test runs on both)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.integration.db.clock import Clock, install_clock

from crosswalk.db import Repositories, create_repositories


@pytest.fixture
def database_url(dual_database_url: str) -> str:
    return dual_database_url


@pytest.fixture
def repos(engine: Engine) -> Repositories:
    return create_repositories(engine)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Every write of the hierarchy adapters 1 ms after the last (see ``clock.py``)."""
    return install_clock(monkeypatch)
