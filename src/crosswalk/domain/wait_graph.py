"""Who waits for whom: refusing a question that would close a wait cycle.

An agent that asks another waits for its answer. Pending conversations are the
edges of a wait-for graph (asker -> asked). If A asks B while B, directly or
through others (B -> C -> A), already waits for A, nobody on the cycle can ever
answer: each waits for the next. The repository walks the graph inside the
transaction that would insert the question, through a lookup function, so the
rule is tested here without a database.

The person is a node too (:data:`PERSON`): an agent waiting for the person's reply to
its question (a message) has an edge to it, and a question the person asked an agent
(``cw ask --agent`` with the admin token) is an edge from it. So the person never
waits in a cycle either: asking an agent that waits for the person, directly or through
others, is refused, and so is an agent's question to the person while the person waits
for that agent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

#: The person running crosswalk, as a node of the wait-for graph (no agent id looks so).
PERSON = "@person"


@dataclass(frozen=True, slots=True)
class WaitEdge:
    """``asker`` waits for ``asked`` to answer ``conversation_id`` (None: the new
    question being refused). When ``asked`` is :data:`PERSON` the id is the message the
    agent waits on for the person's reply."""

    asker: str
    asked: str
    conversation_id: str | None = None


def find_wait_cycle(
    asker: str, asked: str, waits_for: Callable[[str], Iterable[WaitEdge]]
) -> list[WaitEdge] | None:
    """The cycle the new question ``asker -> asked`` would close, or None.

    ``waits_for(agent)`` yields the edges of the agent's pending questions. The
    result starts with the new question and follows the waits back to ``asker``;
    breadth-first, so it is a shortest cycle and each agent is looked up once.
    """
    came_by: dict[str, WaitEdge | None] = {asked: None}
    queue = deque([asked])
    while queue:
        node = queue.popleft()
        for edge in waits_for(node):
            if edge.asked in came_by:
                continue
            came_by[edge.asked] = edge
            if edge.asked == asker:
                return [WaitEdge(asker, asked), *_edges_to(asker, came_by)]
            queue.append(edge.asked)
    return None


def _edges_to(node: str, came_by: dict[str, WaitEdge | None]) -> list[WaitEdge]:
    path: list[WaitEdge] = []
    edge = came_by[node]
    while edge is not None:
        path.append(edge)
        edge = came_by[edge.asker]
    return list(reversed(path))


def describe_wait_cycle(cycle: Sequence[WaitEdge], names: dict[str, str]) -> str:
    """The refusal a would-be asker reads: the cycle with names and conversation (or
    message) ids, and the ways out (answer what waits for you, or ask the person)."""

    def who(node: str) -> str:
        if node == PERSON:
            return "the person"
        name = names.get(node)
        return f"{name} ({node})" if name else node

    def step(edge: WaitEdge) -> str:
        what = "message" if edge.asked == PERSON else "conversation"
        return f"{who(edge.asker)} -> {who(edge.asked)} ({what} {edge.conversation_id})"

    new, *waits = cycle
    steps = [f"{who(new.asker)} -> {who(new.asked)} (this question)"]
    steps += [step(e) for e in waits]
    to_me = waits[-1]
    text = (
        f"asking {who(new.asked)} would close a wait cycle in which nobody can answer: "
        + "; ".join(steps)
        + ". Break it: "
    )
    if new.asker == PERSON:
        return text + (
            f"reply to message {to_me.conversation_id} from {who(to_me.asker)} first "
            f"(cw reply {to_me.conversation_id} TEXT)."
        )
    text += (
        f"answer conversation {to_me.conversation_id} from {who(to_me.asker)} first "
        f"(cw answer {to_me.conversation_id} TEXT)"
    )
    if any(PERSON in (edge.asker, edge.asked) for edge in cycle):
        return text + "."
    return text + ", or ask the person instead (cw ask --user QUESTION)."
