"""What agents' runs cost: one run's usage as its CLI reports it, and totals over runs.

An agent runs once per session (its spawn, then each resume), and each run's CLI
reports its own cost, turns, duration and tokens: the totals of an agent, a task or
an initiative are sums over their runs (``AgentRun`` rows), never one run's result.
Tokens: ``input`` counts the input tokens read fresh, ``cache_creation`` those written
to the prompt cache and ``cache_read`` those read from it (Claude reports the three
apart; Codex's ``cached_input_tokens`` are a part of its ``input_tokens``, so they are
taken out of ``input``). Standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crosswalk.domain.rows import AgentRun


@dataclass(frozen=True, slots=True)
class Usage:
    """One run's usage as its CLI reported it; None where it reported nothing."""

    cost_usd: float | None = None
    turns: int | None = None
    duration_ms: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_tokens: int | None = None
    cache_read_tokens: int | None = None


@dataclass(slots=True)
class UsageTotals:
    """Sums over runs. ``cost_usd`` stays None when no run reported a cost (unknown,
    not free); ``run_ms`` counts a run still going up to now."""

    runs: int = 0
    running: int = 0
    cost_usd: float | None = None
    turns: int = 0
    run_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    agent_ids: set[str] = field(default_factory=set)

    def add(self, run: AgentRun, now: datetime) -> None:
        self.runs += 1
        self.agent_ids.add(run.agent_id)
        if run.cost_usd is not None:
            self.cost_usd = (self.cost_usd or 0.0) + run.cost_usd
        self.turns += run.turns or 0
        self.run_ms += run_milliseconds(run, now)
        self.running += run.ended_at is None
        self.input_tokens += run.input_tokens or 0
        self.output_tokens += run.output_tokens or 0
        self.cache_creation_tokens += run.cache_creation_tokens or 0
        self.cache_read_tokens += run.cache_read_tokens or 0

    def to_api(self) -> dict[str, Any]:
        """The ``usage`` object of the API and the dashboard's JSON twins."""
        return {
            "runs": self.runs,
            "running": self.running,
            "costUsd": None if self.cost_usd is None else round(self.cost_usd, 6),
            "turns": self.turns,
            "runSeconds": self.run_ms // 1000,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cacheCreationTokens": self.cache_creation_tokens,
            "cacheReadTokens": self.cache_read_tokens,
        }


def count(value: Any) -> int | None:
    """A token count, turn count or duration as a CLI reported it: a non-negative
    integer, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def run_milliseconds(run: AgentRun, now: datetime) -> int:
    """How long the run ran: the CLI's (or, lacking it, the server's) measure once it
    ended; from its start until ``now`` while it runs."""
    if run.ended_at is not None and run.duration_ms is not None:
        return run.duration_ms
    end = run.ended_at or now
    return max(int((end - run.started_at).total_seconds() * 1000), 0)


def total(runs: Iterable[AgentRun], now: datetime) -> UsageTotals:
    totals = UsageTotals()
    for run in runs:
        totals.add(run, now)
    return totals


def totals_by(
    runs: Iterable[AgentRun], key: Callable[[AgentRun], str | None], now: datetime
) -> dict[str, UsageTotals]:
    """Totals per ``key(run)`` (runs whose key is None are left out)."""
    grouped: dict[str, UsageTotals] = {}
    for run in runs:
        name = key(run)
        if name is not None:
            grouped.setdefault(name, UsageTotals()).add(run, now)
    return grouped
