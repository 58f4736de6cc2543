"""Port: answers an asker did not wait for, to be delivered once through its hooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from crosswalk.domain.rows import Conversation


class AnswerDeliveryRepository(Protocol):
    def expect(self, conversation_id: str, agent_id: str) -> None:
        """Record that ``agent_id`` (the asker) wants the answer delivered; a second
        call for the same conversation changes nothing."""
        ...

    def find_undelivered(self, agent_id: str) -> list[Conversation]:
        """The agent's expected answers that have arrived and were not delivered yet,
        oldest first (served by the ``(agent_id, delivered_at)`` index)."""
        ...

    def mark_delivered(self, agent_id: str, conversation_ids: Sequence[str]) -> int:
        """Record the delivery of those of ``conversation_ids`` that belong to the agent
        and were not delivered before; return how many."""
        ...
