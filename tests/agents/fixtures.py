"""Pytest fixtures for the agent kit, loaded for every tier by tests/conftest.py.

- ``fake_agents``: a FakeAgents (scripts dir in tmp_path, ``env()``, ``script()``, ``calls()``,
  ``seen()``).
- ``anthropic_standin`` / ``openai_standin``: stand-in model APIs on 127.0.0.1, stopped after.
- ``real_claude`` / ``real_codex``: the pinned npm CLIs' paths; skip when not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents import real_clis
from tests.agents.kit import FakeAgents
from tests.agents.standin_anthropic import AnthropicStandin
from tests.agents.standin_openai import OpenAIStandin


@pytest.fixture
def fake_agents(tmp_path: Path) -> FakeAgents:
    return FakeAgents(tmp_path / "fake-agent-scripts")


@pytest.fixture
def anthropic_standin() -> Iterator[AnthropicStandin]:
    standin = AnthropicStandin().start()
    try:
        yield standin
    finally:
        standin.close()


@pytest.fixture
def openai_standin() -> Iterator[OpenAIStandin]:
    standin = OpenAIStandin().start()
    try:
        yield standin
    finally:
        standin.close()


@pytest.fixture
def real_claude() -> Path:
    if not real_clis.installed(real_clis.CLAUDE):
        pytest.skip(real_clis.MISSING_REASON)
    return real_clis.CLAUDE


@pytest.fixture
def real_codex() -> Path:
    if not real_clis.installed(real_clis.CODEX):
        pytest.skip(real_clis.MISSING_REASON)
    return real_clis.CODEX
