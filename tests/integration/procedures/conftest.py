"""The procedure tier runs every test on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest


@pytest.fixture
def database_url(dual_database_url: str) -> str:
    return dual_database_url
