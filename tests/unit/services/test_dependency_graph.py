"""Cycle detection over an in-memory adjacency map, as the adapters use it."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crosswalk.domain.dependency_graph import format_path, would_create_cycle


def graph(edges: dict[str, list[str]]) -> Callable[[str], Iterable[str]]:
    return lambda node: edges.get(node, [])


def counting(edges: dict[str, list[str]], calls: list[str]) -> Callable[[str], Iterable[str]]:
    def lookup(node: str) -> Iterable[str]:
        calls.append(node)
        return edges.get(node, [])

    return lookup


def test_a_self_edge_is_a_cycle_of_one() -> None:
    assert would_create_cycle("a", "a", graph({})) == ["a", "a"]


def test_an_edge_into_an_unrelated_node_is_fine() -> None:
    assert would_create_cycle("a", "b", graph({"b": ["c"], "c": []})) is None


def test_closing_a_two_node_loop_returns_the_loop() -> None:
    assert would_create_cycle("b", "a", graph({"a": ["b"]})) == ["b", "a", "b"]


def test_the_path_follows_the_edges_back_to_the_start() -> None:
    edges = {"b": ["c"], "c": ["d"], "d": ["a"]}
    assert would_create_cycle("a", "b", graph(edges)) == ["a", "b", "c", "d", "a"]


def test_the_shortest_cycle_is_reported() -> None:
    edges = {"b": ["c", "a"], "c": ["d"], "d": ["a"]}
    assert would_create_cycle("a", "b", graph(edges)) == ["a", "b", "a"]


def test_a_diamond_without_a_way_back_is_not_a_cycle() -> None:
    edges = {"b": ["c", "d"], "c": ["e"], "d": ["e"], "e": []}
    assert would_create_cycle("a", "b", graph(edges)) is None


def test_each_node_is_looked_up_at_most_once() -> None:
    calls: list[str] = []
    edges = {"b": ["c", "d"], "c": ["e"], "d": ["e"], "e": ["c"]}
    assert would_create_cycle("a", "b", counting(edges, calls)) is None
    assert sorted(calls) == ["b", "c", "d", "e"]


def test_an_existing_cycle_elsewhere_does_not_loop_forever() -> None:
    edges = {"b": ["c"], "c": ["b"]}
    assert would_create_cycle("a", "b", graph(edges)) is None


def test_parent_chains_are_graphs_with_one_edge_per_node() -> None:
    parents = {"child": ["parent"], "parent": ["root"], "root": []}
    assert would_create_cycle("root", "child", graph(parents)) == [
        "root",
        "child",
        "parent",
        "root",
    ]


def test_format_path_joins_with_arrows() -> None:
    assert format_path(["a", "b", "a"]) == "a -> b -> a"
