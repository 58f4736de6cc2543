"""Fixtures for the database tier: every repository over a real SQLite file."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from crosswalk.db import Repositories, create_repositories


@pytest.fixture
def repos(engine: Engine) -> Repositories:
    return create_repositories(engine)
