"""Change events: what a committed unit of work tells everyone who waits or watches.

A service records one event per change in its unit of work
(``crosswalk.services.unit_of_work``); the events are published only after the
commit succeeds and dropped on a rollback. Each event names the *keys* it wakes: a
waiter subscribes to keys (``answer:<conversationId>``), a follower of the whole
stream filters events by type. ``docs/architecture.md`` shows the flow.

    Event
     ├── EntityChanged        any create / update / delete of a stored entity
     ├── QuestionAsked        an agent asked another agent       wakes question:<to>
     ├── QuestionAnswered     ... and got its answer             wakes answer:<id>
     ├── QuestionWithdrawn    the conversation went away unanswered (its agent was
     │                        deleted): wakes both sides, with the reason
     ├── QuestionAbandoned    the agent asked stopped or crashed first: the row says
     │                        ``abandoned`` with the reason; wakes answer:<id>
     ├── UserQuestionAsked    an agent asked the person          wakes inbox
     ├── UserQuestionReplied  the person replied                 wakes reply:<messageId>
     ├── UserQuestionWithdrawn the question was deleted          wakes reply:<messageId>
     ├── AgentStatusChanged   an agent's status moved            wakes agent:<id>
     ├── TaskStatusChanged    a task's status moved              wakes task:<id>
     ├── PhaseStatusChanged   a phase's status moved             wakes phase:<id>
     └── LogChunkAppended     an agent wrote output              wakes logs:<agentId>

Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from crosswalk.domain.enums import AgentStatus, PhaseStatus, TaskStatus
from crosswalk.domain.rows import Conversation


def question_key(agent_id: str) -> str:
    """Wakes whoever listens for questions to ``agent_id``."""
    return f"question:{agent_id}"


def answer_key(conversation_id: str) -> str:
    """Wakes whoever waits for the answer to ``conversation_id``."""
    return f"answer:{conversation_id}"


def reply_key(message_id: str) -> str:
    """Wakes whoever waits for the person's reply to ``message_id``."""
    return f"reply:{message_id}"


def logs_key(agent_id: str) -> str:
    """Wakes whoever follows the output log of ``agent_id``."""
    return f"logs:{agent_id}"


def entity_key(entity: str, id: str) -> str:
    """Wakes whoever watches one entity (``task:<id>``, ``agent:<id>``, ...)."""
    return f"{entity}:{id}"


INBOX_KEY = "inbox"


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every change event."""

    def wake_keys(self) -> tuple[str, ...]:
        """The subscription keys this event wakes."""
        return ()


@dataclass(frozen=True, slots=True)
class EntityChanged(Event):
    """A row of ``entity`` (``task``, ``agent``, ``page``, ...) was created, updated
    or deleted."""

    entity: str
    id: str
    action: Action

    def wake_keys(self) -> tuple[str, ...]:
        return (entity_key(self.entity, self.id),)


@dataclass(frozen=True, slots=True)
class QuestionAsked(Event):
    conversation_id: str
    from_agent_id: str | None  # None: the person asked
    to_agent_id: str

    def wake_keys(self) -> tuple[str, ...]:
        return (question_key(self.to_agent_id),)


#: ``field(metadata=LOCAL)``: a field that stays in this process, never sent to other
#: servers (``db/pg_listen`` leaves it out; there it is None). See :func:`is_local`.
LOCAL: Mapping[str, bool] = MappingProxyType({"local": True})


def is_local(field: Field[Any]) -> bool:
    return bool(field.metadata.get("local"))


@dataclass(frozen=True, slots=True)
class QuestionAnswered(Event):
    conversation_id: str
    from_agent_id: str | None
    to_agent_id: str
    #: The answered row as committed, so the waiter it wakes need not read it again;
    #: None when the event came from another server.
    conversation: Conversation | None = field(
        default=None, compare=False, repr=False, metadata=LOCAL
    )

    def wake_keys(self) -> tuple[str, ...]:
        return (answer_key(self.conversation_id),)


@dataclass(frozen=True, slots=True)
class QuestionWithdrawn(Event):
    """The conversation is gone before it was answered; ``reason`` says why, in words
    the asker reads (``agent brave-otter (id) was deleted``)."""

    conversation_id: str
    from_agent_id: str | None
    to_agent_id: str
    reason: str

    def wake_keys(self) -> tuple[str, ...]:
        return (answer_key(self.conversation_id), question_key(self.to_agent_id))


@dataclass(frozen=True, slots=True)
class QuestionAbandoned(Event):
    """The agent asked stopped or crashed before answering; the conversation is kept,
    ``abandoned``, with the reason."""

    conversation_id: str
    from_agent_id: str | None
    to_agent_id: str

    def wake_keys(self) -> tuple[str, ...]:
        return (answer_key(self.conversation_id),)


@dataclass(frozen=True, slots=True)
class UserQuestionAsked(Event):
    message_id: str
    agent_id: str | None  # None: crosswalk itself asks (a checkpoint, a merge conflict)

    def wake_keys(self) -> tuple[str, ...]:
        return (INBOX_KEY,)


@dataclass(frozen=True, slots=True)
class UserQuestionReplied(Event):
    message_id: str
    agent_id: str | None

    def wake_keys(self) -> tuple[str, ...]:
        return (reply_key(self.message_id), INBOX_KEY)


@dataclass(frozen=True, slots=True)
class UserQuestionWithdrawn(Event):
    """A message (and so any question in its thread) was deleted."""

    message_id: str

    def wake_keys(self) -> tuple[str, ...]:
        return (reply_key(self.message_id), INBOX_KEY)


@dataclass(frozen=True, slots=True)
class AgentStatusChanged(Event):
    agent_id: str
    status: AgentStatus

    def wake_keys(self) -> tuple[str, ...]:
        return (entity_key("agent", self.agent_id),)


@dataclass(frozen=True, slots=True)
class TaskStatusChanged(Event):
    task_id: str
    status: TaskStatus

    def wake_keys(self) -> tuple[str, ...]:
        return (entity_key("task", self.task_id),)


@dataclass(frozen=True, slots=True)
class PhaseStatusChanged(Event):
    phase_id: str
    status: PhaseStatus

    def wake_keys(self) -> tuple[str, ...]:
        return (entity_key("phase", self.phase_id),)


@dataclass(frozen=True, slots=True)
class LogChunkAppended(Event):
    agent_id: str
    chunk_id: str
    #: The chunk's session, so a page showing an agent's session number can tell the
    #: first chunk of a new session from the rest without reading the log.
    session_number: int = 1

    def wake_keys(self) -> tuple[str, ...]:
        return (logs_key(self.agent_id),)
