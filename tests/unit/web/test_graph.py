"""The initiative graph's layout: columns by dependency depth, left to right."""

from __future__ import annotations

from crosswalk.server.web import graph


def test_a_task_sits_one_column_right_of_the_deepest_task_it_waits_for() -> None:
    waits_for = {"c": ["a", "b"], "b": ["a"], "d": []}
    assert graph.depths(["a", "b", "c", "d"], waits_for) == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_unknown_dependencies_are_ignored_and_a_cycle_does_not_loop() -> None:
    assert graph.depths(["a"], {"a": ["gone"]}) == {"a": 0}
    found = graph.depths(["a", "b"], {"a": ["b"], "b": ["a"]})
    assert set(found) == {"a", "b"}


def test_layout_places_columns_left_to_right_and_draws_only_the_given_edges() -> None:
    placed = graph.layout(["a", "b", "c"], {"b": ["a"], "c": ["a"]}, [("b", "a")])
    a, b, c = (placed.nodes[n] for n in "abc")
    assert b.x == c.x > a.x + graph.NODE_WIDTH
    assert b.y < c.y  # same column, listed order
    assert [(e.source, e.target) for e in placed.edges] == [("a", "b")]
    assert placed.edges[0].path.startswith(f"M{a.x + graph.NODE_WIDTH},")
    assert placed.width == 2 * graph.MARGIN + 2 * graph.NODE_WIDTH + graph.COLUMN_GAP
    assert placed.height == 2 * graph.MARGIN + 2 * graph.NODE_HEIGHT + graph.ROW_GAP


def test_an_empty_graph_has_no_size_beyond_its_margins() -> None:
    placed = graph.layout([], {}, [])
    assert (placed.width, placed.height, placed.nodes) == (2 * graph.MARGIN, 2 * graph.MARGIN, {})
