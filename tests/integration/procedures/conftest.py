"""The procedure tier runs every test on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.procedures.planning_api import Api, running_api


@pytest.fixture
def database_url(dual_database_url: str) -> str:
    return dual_database_url


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    """The app on the test's database (SQLite or PostgreSQL), called as the admin."""
    with running_api(database_url, tmp_path) as api:
        yield api
