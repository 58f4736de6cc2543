"""The ``AgentRunRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import RunEnd
from crosswalk.domain.rows import NewAgentRun

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_a_run_starts_once_per_session_and_ends_with_its_usage(ports: Ports) -> None:
    runs = ports.agent_runs
    first = runs.start(
        NewAgentRun("a1", "alice", 1, "claude", T0, task_id="t1", initiative_id="i1")
    )
    again = runs.start(NewAgentRun("a1", "alice", 1, "claude", T0 + timedelta(minutes=5)))
    assert again == first  # adopting a run after a restart starts it again
    assert (first.ended_at, first.outcome, first.cost_usd) == (None, None, None)

    ended = runs.finish(
        "a1",
        1,
        {
            "ended_at": T0 + timedelta(seconds=90),
            "outcome": RunEnd.SUCCEEDED,
            "cost_usd": 0.25,
            "turns": 3,
            "duration_ms": 88_000,
            "input_tokens": 1200,
            "output_tokens": 340,
            "cache_creation_tokens": 5000,
            "cache_read_tokens": 12_000,
        },
    )
    assert ended is not None
    assert (ended.id, ended.outcome, ended.cost_usd, ended.turns) == (
        first.id,
        RunEnd.SUCCEEDED,
        0.25,
        3,
    )
    assert (ended.duration_ms, ended.input_tokens, ended.cache_read_tokens) == (
        88_000,
        1200,
        12_000,
    )
    assert ended.ended_at == T0 + timedelta(seconds=90)
    assert runs.finish("a1", 7, {"outcome": RunEnd.CRASHED}) is None


def test_runs_are_found_by_agent_task_and_initiative_oldest_first(ports: Ports) -> None:
    runs = ports.agent_runs
    second = runs.start(
        NewAgentRun("a1", "alice", 2, "claude", T0 + timedelta(hours=1), "t1", "i1")
    )
    first = runs.start(NewAgentRun("a1", "alice", 1, "claude", T0, "t1", "i1"))
    other = runs.start(NewAgentRun("b2", "bob", 1, "codex", T0 + timedelta(minutes=1), "t2", "i1"))
    elsewhere = runs.start(NewAgentRun("c3", "carol", 1, "claude", T0, None, None))

    assert runs.find(agent_id="a1") == [first, second]
    assert runs.find(task_id="t2") == [other]
    assert runs.find(initiative_id="i1") == [first, other, second]
    assert runs.find(agent_id="a1", task_id="t2") == []
    assert {r.id for r in runs.find()} == {first.id, second.id, other.id, elsewhere.id}
