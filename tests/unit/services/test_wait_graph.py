"""The wait-for graph rule: a question that would close a wait cycle is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crosswalk.domain.wait_graph import WaitEdge, describe_wait_cycle, find_wait_cycle


def graph(*edges: tuple[str, str, str]) -> tuple[dict[str, list[WaitEdge]], list[str]]:
    """Pending questions as (asker, asked, conversation id); records each lookup."""
    by_asker: dict[str, list[WaitEdge]] = {}
    for asker, asked, cid in edges:
        by_asker.setdefault(asker, []).append(WaitEdge(asker, asked, cid))
    return by_asker, []


def lookup(
    by_asker: dict[str, list[WaitEdge]], seen: list[str]
) -> Callable[[str], Iterable[WaitEdge]]:
    def waits_for(agent: str) -> Iterable[WaitEdge]:
        seen.append(agent)
        return by_asker.get(agent, [])

    return waits_for


def test_no_cycle_when_the_asked_agent_waits_for_nobody() -> None:
    by_asker, seen = graph(("a", "b", "c1"))
    assert find_wait_cycle("c", "a", lookup(by_asker, seen)) is None


def test_a_direct_cycle_is_found() -> None:
    by_asker, seen = graph(("b", "a", "c1"))
    cycle = find_wait_cycle("a", "b", lookup(by_asker, seen))
    assert cycle == [WaitEdge("a", "b"), WaitEdge("b", "a", "c1")]


def test_a_cycle_through_others_is_found_shortest_first() -> None:
    # a asked b, b asked c; c now asks a. Also a long detour a -> x -> y -> c.
    by_asker, seen = graph(("a", "b", "c1"), ("b", "c", "c2"), ("a", "x", "c3"), ("x", "y", "c4"))
    cycle = find_wait_cycle("c", "a", lookup(by_asker, seen))
    assert cycle == [WaitEdge("c", "a"), WaitEdge("a", "b", "c1"), WaitEdge("b", "c", "c2")]


def test_each_agent_is_looked_up_once_even_in_a_diamond() -> None:
    by_asker, seen = graph(("a", "b", "1"), ("a", "c", "2"), ("b", "d", "3"), ("c", "d", "4"))
    assert find_wait_cycle("z", "a", lookup(by_asker, seen)) is None
    assert sorted(seen) == ["a", "b", "c", "d"]


def test_the_refusal_names_every_step_and_the_way_out() -> None:
    cycle = [WaitEdge("C", "A"), WaitEdge("A", "B", "conv-1"), WaitEdge("B", "C", "conv-2")]
    text = describe_wait_cycle(cycle, {"A": "alice", "B": "bob", "C": "carol"})
    assert "carol (C) -> alice (A) (this question)" in text
    assert "alice (A) -> bob (B) (conversation conv-1)" in text
    assert "bob (B) -> carol (C) (conversation conv-2)" in text
    # carol can break it by answering bob's question to her, or by asking the person
    assert "answer conversation conv-2 from bob (B) first (cw answer conv-2 TEXT)" in text
    assert "cw ask --user" in text
