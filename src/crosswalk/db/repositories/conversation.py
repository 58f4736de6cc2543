"""Port: conversations, one question from an agent (or the person) to an agent and its
answer."""

from __future__ import annotations

from typing import Protocol

from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, Conversation, NewConversation, Paged


class ConversationRepository(Protocol):
    def create(self, data: NewConversation) -> Conversation:
        """Insert a pending conversation (with the caller-chosen ``id`` if given; a taken
        id is ``ConflictError``). Replaying a retried ask is ``ConversationService``'s. A
        question whose addressee already waits, through pending questions, for the asker
        is ``WaitCycleError`` (checked in the inserting transaction)."""
        ...

    def refuse_wait_cycle(self, asker: str, asked: str) -> None:
        """``WaitCycleError`` when ``asked`` already waits, through pending questions, for
        ``asker``; either may be ``wait_graph.PERSON`` (the person). For a unit of work
        about to make ``asker`` wait for ``asked`` by other means (an agent's question
        to the person): ``create`` checks its own question."""
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

    def answer(self, id: str, answer: str, *, addressed_to: str | None = None) -> Conversation:
        """pending -> answered in one conditional statement; with ``addressed_to``, only
        if the question is addressed to that agent. Unknown id: ``NotFoundError``;
        addressed to another agent: ``ForbiddenError``; already answered or abandoned:
        ``ConflictError``; nothing changed on any of them."""
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
