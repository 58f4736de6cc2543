"""An initiative's tasks as a left-to-right dependency graph, laid out for an SVG.

A task's column is its dependency depth: 0 when it waits for nothing, else one more
than the deepest task it waits for. A task waits for its own dependencies and, through
its phase, for every task of the phases its phase depends on. Within a column tasks
keep the order they are listed in (phase, then planned order). Pure: the caller
gathers the edges, this module only places boxes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NODE_WIDTH = 180
NODE_HEIGHT = 46
COLUMN_GAP = 60
ROW_GAP = 16
MARGIN = 8


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    x: int
    y: int
    column: int


@dataclass(frozen=True, slots=True)
class Edge:
    """From the task depended on (left) to the task that waits for it (right)."""

    source: str
    target: str
    path: str  # SVG path data


@dataclass(frozen=True, slots=True)
class Layout:
    nodes: dict[str, Node]
    edges: list[Edge]
    width: int
    height: int


def depths(order: Sequence[str], waits_for: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each node's longest chain of dependencies; edges to unknown nodes are ignored,
    and a cycle (the repositories refuse them) cannot loop: a node on it counts as 0."""
    known = set(order)
    result: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(node: str) -> int:
        if node in result:
            return result[node]
        if node in visiting:
            return 0
        visiting.add(node)
        below = [depth(dep) + 1 for dep in waits_for.get(node, ()) if dep in known]
        visiting.discard(node)
        result[node] = max(below, default=0)
        return result[node]

    for node in order:
        depth(node)
    return result


def layout(
    order: Sequence[str],
    waits_for: Mapping[str, Sequence[str]],
    drawn_edges: Sequence[tuple[str, str]],
) -> Layout:
    """Place ``order``'s nodes by depth; ``drawn_edges`` are ``(task, depends_on)``
    pairs drawn as arrows (the phase-implied waits only shape the columns)."""
    column_of = depths(order, waits_for)
    rows: dict[int, int] = {}
    nodes: dict[str, Node] = {}
    for node_id in order:
        column = column_of[node_id]
        row = rows.get(column, 0)
        rows[column] = row + 1
        nodes[node_id] = Node(
            id=node_id,
            x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
            y=MARGIN + row * (NODE_HEIGHT + ROW_GAP),
            column=column,
        )
    edges = [
        Edge(source=dep, target=task, path=_curve(nodes[dep], nodes[task]))
        for task, dep in drawn_edges
        if task in nodes and dep in nodes
    ]
    columns = max(rows, default=-1) + 1
    tallest = max(rows.values(), default=0)
    width = MARGIN * 2 + max(columns * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP, 0)
    height = MARGIN * 2 + max(tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP, 0)
    return Layout(nodes=nodes, edges=edges, width=width, height=height)


def _curve(source: Node, target: Node) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x, target.y + NODE_HEIGHT // 2
    if x2 <= x1:  # same column (only possible on a cycle): a short hook to the left
        x2 = target.x
        return f"M{x1},{y1} C{x1 + 30},{y1} {x2 - 30},{y2} {x2},{y2}"
    middle = (x1 + x2) // 2
    return f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2 - 4},{y2}"
