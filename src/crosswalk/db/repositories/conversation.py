"""Port: conversations, one question from an agent (or the person) to an agent and its
answer."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, Conversation, NewConversation, Paged
from crosswalk.domain.wait_graph import WaitEdge


class ConversationRepository(Protocol):
    def create(self, data: NewConversation) -> Conversation:
        """Insert a pending conversation (with the caller-chosen ``id`` if given; a taken
        id is ``ConflictError``). Replaying a retried ask and refusing a wait cycle are
        ``ConversationService``'s."""
        ...

    def lock_wait_graph(self) -> None:
        """Hold the wait-for graph until the unit of work ends, so two units cannot each
        add half of a wait cycle: one lock for every ask (a PostgreSQL advisory lock;
        nothing on SQLite, whose units of work begin ``IMMEDIATE`` and run alone).
        Taken by the services before they walk the graph."""
        ...

    def waits_of(self, node: str) -> list[WaitEdge]:
        """The open wait edges from ``node``: an agent's pending questions to agents and
        its open questions to the person (edges to ``wait_graph.PERSON``, with the
        message id); for ``PERSON``, the pending questions the person asked agents."""
        ...

    def find_by_id(self, id: str) -> Conversation | None: ...

    def get(self, id: str) -> Conversation: ...

    def find_pending_for_agent(
        self, agent_id: str, *, after_id: str | None = None, limit: int | None = None
    ) -> list[Conversation]:
        """Pending conversations addressed to the agent, oldest first (served by the
        ``(to_agent_id, status)`` index). ``after_id``: only those after that one;
        ``limit``: at most that many."""
        ...

    def count_pending_between(self, from_agent_id: str, to_agent_id: str) -> int:
        """How many questions from one agent to another are still pending."""
        ...

    def find_pending_involving(self, agent_id: str) -> list[Conversation]:
        """Pending conversations the agent asked or is asked, oldest first."""
        ...

    def answer(
        self, id: str, answer: str, *, addressed_to: str | None = None
    ) -> Conversation | None:
        """pending -> answered in one conditional statement: only while it is pending
        and, with ``addressed_to``, addressed to that agent. None when that condition
        did not hold (unknown id included) and nothing changed; why is for the service
        to read and say."""
        ...

    def abandon_pending_to(self, agent_id: str, reason: str) -> list[Conversation]:
        """Every pending question addressed to the agent becomes ``abandoned`` with
        ``reason``, in one statement; returns them."""
        ...

    def abandon(self, ids: list[str], reason: str) -> list[Conversation]:
        """Those of ``ids`` still pending become ``abandoned`` with ``reason``; returns
        them (the others, answered or gone, are left as they are)."""
        ...

    def list_page(
        self,
        *,
        agent_id: str | None = None,
        status: ConversationStatus | None = None,
        initiative_id: str | None = None,
        phase_id: str | None = None,
        task_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Conversation]:
        """``agent_id`` matches either side. Newest first."""
        ...
