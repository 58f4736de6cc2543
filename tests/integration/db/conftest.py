"""Fixtures for the database tier: every repository over a real SQLite file and a real
PostgreSQL database (each test runs on both)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.integration.db.clock import Clock

from crosswalk.db import Repositories, create_repositories
from crosswalk.domain.clock import SYSTEM_CLOCK


@pytest.fixture
def database_url(dual_database_url: str) -> str:
    return dual_database_url


@pytest.fixture
def repos(engine: Engine, request: pytest.FixtureRequest) -> Repositories:
    """The adapters, on the test's ``clock`` when it asks for one, else the system's."""
    wanted = "clock" in request.fixturenames
    return create_repositories(engine, request.getfixturevalue("clock") if wanted else SYSTEM_CLOCK)


@pytest.fixture
def clock() -> Clock:
    """Every time the adapters write 1 ms after the last (see ``clock.py``)."""
    return Clock()
