"""Port: messages between agents and the user, threaded by parent message."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from crosswalk.domain.enums import MessageStatus, ParticipantType
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Message,
    MessageUpdate,
    NewMessage,
    Paged,
    Removal,
)


class MessageRepository(Protocol):
    def create(self, data: NewMessage) -> Message:
        """Insert (with the caller-chosen ``id`` if given; a taken id is
        ``ConflictError``). Replaying a retried send is ``HumanQuestionService``'s."""
        ...

    def find_by_id(self, id: str) -> Message | None: ...

    def get(self, id: str) -> Message: ...

    def find_all(self) -> list[Message]: ...

    def find_pending_for_user(self) -> list[Message]:
        """Messages to the user still pending, oldest first."""
        ...

    def find_pending_from_user(self, agent_id: str) -> list[Message]:
        """What the person said to the agent that nothing has handed over yet: messages
        from the user to it, ``pending``, oldest first. That is what it was told, and
        the replies to its questions that no wait of its own has taken (it asked with
        ``--no-wait``, or gave up waiting)."""
        ...

    def mark_read(self, ids: Sequence[str]) -> list[Message]:
        """``pending`` -> ``read`` for the messages ``ids``, in one conditional
        statement; returns those it changed, oldest first (of two racing callers,
        each message goes to one)."""
        ...

    def find_requiring_response(
        self, *, sender_id: str | None = None, task_id: str | None = None
    ) -> list[Message]:
        """Messages that require a response and have none yet (not ``responded``),
        oldest first; only those the agent ``sender_id`` sent, and only those about
        ``task_id``, if given."""
        ...

    def find_replies(self, parent_message_id: str) -> list[Message]:
        """Direct replies, oldest first."""
        ...

    def find_thread(self, id: str) -> list[Message]:
        """Every reply below the message, at any depth, oldest first (not the message)."""
        ...

    def find_told(self, agent_ids: Collection[str], *, limit: int) -> list[Message]:
        """The newest ``limit`` messages the person sent to any of ``agent_ids``, newest
        first."""
        ...

    def list_page(
        self,
        *,
        sender_type: ParticipantType | None = None,
        sender_id: str | None = None,
        recipient_type: ParticipantType | None = None,
        recipient_id: str | None = None,
        status: MessageStatus | None = None,
        parent_message_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Message]: ...

    def update(self, id: str, changes: MessageUpdate) -> Message: ...

    def reply(self, data: NewMessage) -> tuple[Message, Message]:
        """Insert ``data`` as the reply to its ``parent_message_id`` and mark the parent
        ``responded``, in one transaction; returns ``(parent, reply)``. A parent already
        responded is a ``ConflictError`` and nothing is written, so of two racing
        replies exactly one wins."""
        ...

    def delete(self, id: str) -> Removal:
        """Delete; its replies go with it."""
        ...
