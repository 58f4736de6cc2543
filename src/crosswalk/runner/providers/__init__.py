"""Coding-agent CLIs the runner can drive, behind one small port (``Provider``)."""

from __future__ import annotations

from collections.abc import Mapping

from crosswalk.runner.providers._port import (
    Provider,
    RunOptions,
    RunOutcome,
    StreamReader,
    UsageLimit,
)
from crosswalk.runner.providers.claude import ClaudeProvider
from crosswalk.runner.providers.codex import CodexProvider

__all__ = [
    "ClaudeProvider",
    "CodexProvider",
    "Provider",
    "RunOptions",
    "RunOutcome",
    "StreamReader",
    "UsageLimit",
    "default_providers",
]


def default_providers() -> Mapping[str, Provider]:
    """Every provider crosswalk ships, by name."""
    providers: list[Provider] = [ClaudeProvider(), CodexProvider()]
    return {provider.name: provider for provider in providers}
