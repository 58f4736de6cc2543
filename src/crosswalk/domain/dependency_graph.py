"""Cycle detection for the dependency graphs of phases and tasks (and parent trees).

The repositories store the edges; this module only walks them through a lookup
function, so the rule is unit-tested without a database and shared by the planning
service (dependencies) and the adapters' parent-tree checks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence


def would_create_cycle(
    start: str, target: str, depends_on: Callable[[str], Iterable[str]]
) -> list[str] | None:
    """The cycle that the new edge ``start -> target`` would close, or None.

    ``depends_on(node)`` yields the nodes ``node`` already points to. The result
    reads along the edges and returns to ``start``: ``[start, target, ..., start]``
    (``[start, start]`` for a self-edge). Breadth-first, so the path shown is a
    shortest one and each node is looked up at most once.
    """
    if start == target:
        return [start, start]
    came_from: dict[str, str | None] = {target: None}
    queue = deque([target])
    while queue:
        node = queue.popleft()
        for successor in depends_on(node):
            if successor in came_from:
                continue
            came_from[successor] = node
            if successor == start:
                return [start, *_path_to(start, came_from)]
            queue.append(successor)
    return None


def _path_to(node: str, came_from: dict[str, str | None]) -> list[str]:
    """The walk from the search's origin to ``node``, following ``came_from`` back."""
    path: list[str | None] = []
    current: str | None = node
    while current is not None:
        path.append(current)
        current = came_from[current]
    return [step for step in reversed(path) if step is not None]


def format_path(path: Sequence[str]) -> str:
    """``a -> b -> a``, for error messages."""
    return " -> ".join(path)
