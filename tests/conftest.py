"""Fixtures shared by every tier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crosswalk.db.encryption import SecretBox, generate_key
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema

# Fake agent CLIs, model-API stand-ins and the real CLIs: see tests/agents/README.md.
pytest_plugins = ["tests.agents.fixtures"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file, one per test."""
    return f"sqlite:///{tmp_path / 'crosswalk.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a real SQLite file migrated to head."""
    box = SecretBox([generate_key().encode()])
    engine = create_database_engine(database_url, secret_box=box)
    ensure_schema(engine)
    yield engine
    engine.dispose()
