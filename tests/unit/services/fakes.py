"""In-memory stand-ins for the ports the question services use.

``FakeAgents``, ``FakeConversations`` and ``FakeMessages`` implement their whole
repository port and ``FakeTasks``/``FakePhases`` the lookups target resolution needs;
mypy checks that they do (the ``TYPE_CHECKING`` block at the end, and this module is in
mypy's files), and ``tests/contract/`` runs the same suite against each fake and its
SQLAlchemy adapter. ``FakeUnitsOfWork`` stands in for the unit of work.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    AgentMode,
    AgentStatus,
    ConversationStatus,
    MessageStatus,
    ParticipantType,
    PhaseStatus,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.events import Event
from crosswalk.domain.names import random_alias
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Agent,
    AgentUpdate,
    Conversation,
    Message,
    MessageUpdate,
    NewAgent,
    NewConversation,
    NewMessage,
    Paged,
    Phase,
    Removal,
    Task,
)
from crosswalk.services.change_stream import ChangeStream

T = TypeVar("T", Agent, Conversation, Message)

_clock = itertools.count()
_ids = itertools.count(1)
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def tick() -> datetime:
    return _EPOCH + timedelta(milliseconds=next(_clock))


def fake_id(prefix: str) -> str:
    return f"{prefix}{next(_ids)}"


def page(
    rows: Iterable[T], *, limit: int, cursor: str | None, newest_first: bool = False
) -> Paged[T]:
    """Keyset pages over (created_at, id), as the adapters page; the cursor is the last
    id of the page (the adapters encode theirs differently: clients treat it as opaque)."""
    if limit < 1:
        raise InvalidInputError("limit must be at least 1", field="limit")
    limit = min(limit, MAX_PAGE_SIZE)
    ordered = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=newest_first)
    if cursor is not None:
        ids = [r.id for r in ordered]
        if cursor not in ids:
            raise InvalidInputError(f"cursor '{cursor}' is not valid", field="cursor")
        ordered = ordered[ids.index(cursor) + 1 :]
    items = ordered[:limit]
    more = len(ordered) > limit
    return Paged(items=items, next_cursor=items[-1].id if more else None)


def _changed(row: T, changes: Any, allowed: type) -> T:
    unknown = sorted(set(changes) - set(allowed.__annotations__))
    if unknown:
        raise InvalidInputError(f"no field '{unknown[0]}'", field=unknown[0])
    return replace(row, **changes, updated_at=tick())


def make_agent(
    id: str, *, task_id: str | None = None, status: AgentStatus = AgentStatus.RUNNING
) -> Agent:
    now = tick()
    return Agent(
        id=id, name=f"{id}-name", task_id=task_id, initiative_id=None, session_id=None,
        worktree_id=".", provider="claude", account_id=None, status=status,
        mode=AgentMode.EXECUTE, pid=None, exit_code=None, output_file_path=None, result=None,
        pending_questions=None, user_dismissed_at=None, token_hash=None,
        created_at=now, updated_at=now,
    )  # fmt: skip


def make_task(id: str, *, phase_id: str | None, initiative_id: str | None = "init") -> Task:
    now = tick()
    return Task(
        id=id, phase_id=phase_id, initiative_id=initiative_id, parent_task_id=None, name=id,
        description=None, type=TaskType.AUTO, category=TaskCategory.EXECUTE,
        priority=TaskPriority.MEDIUM, status=TaskStatus.IN_PROGRESS, requires_approval=None,
        order=0, created_at=now, updated_at=now,
    )  # fmt: skip


def make_phase(id: str, initiative_id: str = "init") -> Phase:
    now = tick()
    return Phase(
        id=id, initiative_id=initiative_id, name=id, content=None,
        status=PhaseStatus.IN_PROGRESS, created_at=now, updated_at=now,
    )  # fmt: skip


class FakeAgents:
    """The whole ``AgentRepository`` port in memory; ``tasks`` answers which task is in
    which phase (for ``find_active_by_phase_id``)."""

    def __init__(self, *agents: Agent, tasks: FakeTasks | None = None) -> None:
        self.rows = {agent.id: agent for agent in agents}
        self.tasks = tasks or FakeTasks()

    def create(self, data: NewAgent) -> Agent:
        name = data.name
        if name is None:
            name = random_alias()
            while self.find_by_name(name) is not None:
                name = f"{random_alias()}-{next(_ids)}"
        elif self.find_by_name(name) is not None:
            raise ConflictError(f"agent name '{name}' is already taken")
        if data.task_id is not None:
            self.tasks.get(data.task_id)
        now = tick()
        row = Agent(
            id=fake_id("a"), name=name, task_id=data.task_id, initiative_id=data.initiative_id,
            session_id=data.session_id, worktree_id=data.worktree_id, provider=data.provider,
            account_id=data.account_id, status=data.status, mode=data.mode, pid=data.pid,
            exit_code=None, output_file_path=data.output_file_path, result=None,
            pending_questions=None, user_dismissed_at=None, token_hash=data.token_hash,
            created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Agent | None:
        return self.rows.get(id)

    def get(self, id: str) -> Agent:
        if id not in self.rows:
            raise NotFoundError("agent", id)
        return self.rows[id]

    def find_all(self) -> list[Agent]:
        return sorted(self.rows.values(), key=lambda a: (a.created_at, a.id))

    def find_by_name(self, name: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.name == name), None)

    def _recent_first(self, keep: Callable[[Agent], bool]) -> list[Agent]:
        found = [a for a in self.rows.values() if keep(a)]
        return sorted(found, key=lambda a: (a.updated_at, a.id), reverse=True)

    def find_by_task_id(self, task_id: str) -> list[Agent]:
        return self._recent_first(lambda a: a.task_id == task_id)

    def find_by_session_id(self, session_id: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.session_id == session_id), None)

    def find_by_status(self, status: AgentStatus) -> list[Agent]:
        return [a for a in self.find_all() if a.status is status]

    def find_by_token_hash(self, token_hash: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.token_hash == token_hash), None)

    def find_active_by_task_id(self, task_id: str) -> list[Agent]:
        return self._recent_first(
            lambda a: a.task_id == task_id and a.status in ACTIVE_AGENT_STATUSES
        )

    def find_active_by_phase_id(self, phase_id: str) -> list[Agent]:
        in_phase = {t.id for t in self.tasks.rows.values() if t.phase_id == phase_id}
        return self._recent_first(
            lambda a: a.task_id in in_phase and a.status in ACTIVE_AGENT_STATUSES
        )

    def list_page(
        self,
        *,
        status: AgentStatus | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Agent]:
        rows = [
            a for a in self.rows.values()
            if (status is None or a.status is status)
            and (task_id is None or a.task_id == task_id)
            and (initiative_id is None or a.initiative_id == initiative_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: AgentUpdate) -> Agent:
        name = changes.get("name")
        if name is not None and (other := self.find_by_name(name)) and other.id != id:
            raise ConflictError(f"agent name '{name}' is already taken")
        row = _changed(self.get(id), changes, AgentUpdate)
        self.rows[id] = row
        return row

    def delete(self, id: str) -> Removal:
        del self.rows[self.get(id).id]
        return {}


class FakeTasks:
    """``TaskLookup``: the tasks target resolution reads."""

    def __init__(self, *tasks: Task) -> None:
        self.rows = {task.id: task for task in tasks}

    def find_by_id(self, id: str) -> Task | None:
        return self.rows.get(id)

    def get(self, id: str) -> Task:
        if id not in self.rows:
            raise NotFoundError("task", id)
        return self.rows[id]


class FakePhases:
    """``PhaseLookup``: the phases target resolution reads."""

    def __init__(self, *phases: Phase) -> None:
        self.rows = {phase.id: phase for phase in phases}

    def get(self, id: str) -> Phase:
        if id not in self.rows:
            raise NotFoundError("phase", id)
        return self.rows[id]


class FakeConversations:
    """The whole ``ConversationRepository`` port in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, Conversation] = {}

    def create(self, data: NewConversation) -> Conversation:
        stored = self.rows.get(data.id) if data.id else None
        if stored is not None:  # the port's replay rule
            if (stored.from_agent_id, stored.question) != (data.from_agent_id, data.question):
                raise ConflictError(
                    f"conversation '{stored.id}' already exists with another asker or question"
                )
            return stored
        now = tick()
        row = Conversation(
            id=data.id or fake_id("c"), from_agent_id=data.from_agent_id,
            to_agent_id=data.to_agent_id, initiative_id=data.initiative_id,
            phase_id=data.phase_id, task_id=data.task_id, question=data.question, answer=None,
            status=ConversationStatus.PENDING, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Conversation | None:
        return self.rows.get(id)

    def get(self, id: str) -> Conversation:
        if id not in self.rows:
            raise NotFoundError("conversation", id)
        return self.rows[id]

    def _pending(self, keep: Callable[[Conversation], bool]) -> list[Conversation]:
        found = [
            c for c in self.rows.values() if c.status is ConversationStatus.PENDING and keep(c)
        ]
        return sorted(found, key=lambda c: (c.created_at, c.id))

    def find_pending_for_agent(
        self, agent_id: str, *, after_id: str | None = None
    ) -> list[Conversation]:
        pending = self._pending(lambda c: c.to_agent_id == agent_id)
        after = self.rows.get(after_id) if after_id is not None else None
        if after is None:
            return pending
        return [c for c in pending if (c.created_at, c.id) > (after.created_at, after.id)]

    def find_pending_involving(self, agent_id: str) -> list[Conversation]:
        return self._pending(lambda c: agent_id in (c.from_agent_id, c.to_agent_id))

    def answer(self, id: str, answer: str) -> Conversation:
        row = self.get(id)
        if row.status is ConversationStatus.ANSWERED:
            raise ConflictError(f"conversation '{id}' is already answered")
        row = replace(row, answer=answer, status=ConversationStatus.ANSWERED, updated_at=tick())
        self.rows[id] = row
        return row

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
        rows = [
            c for c in self.rows.values()
            if (agent_id is None or agent_id in (c.from_agent_id, c.to_agent_id))
            and (status is None or c.status is status)
            and (initiative_id is None or c.initiative_id == initiative_id)
            and (phase_id is None or c.phase_id == phase_id)
            and (task_id is None or c.task_id == task_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor, newest_first=True)


class FakeMessages:
    """The whole ``MessageRepository`` port in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, Message] = {}

    def create(self, data: NewMessage) -> Message:
        for role, kind, ident in (
            ("sender", data.sender_type, data.sender_id),
            ("recipient", data.recipient_type, data.recipient_id),
        ):
            if kind is ParticipantType.AGENT and ident is None:
                raise InvalidInputError(f"an agent {role} needs {role}_id", field=f"{role}_id")
        stored = self.rows.get(data.id) if data.id else None
        if stored is not None:
            same = (stored.sender_id, stored.recipient_id, stored.content) == (
                data.sender_id, data.recipient_id, data.content,
            )  # fmt: skip
            if not same:
                raise ConflictError(f"message '{stored.id}' already exists with other content")
            return stored
        if data.parent_message_id is not None:
            self.get(data.parent_message_id)
        now = tick()
        row = Message(
            id=data.id or fake_id("m"), sender_type=data.sender_type, sender_id=data.sender_id,
            recipient_type=data.recipient_type, recipient_id=data.recipient_id, type=data.type,
            content=data.content, requires_response=data.requires_response, status=data.status,
            parent_message_id=data.parent_message_id, created_at=now, updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Message | None:
        return self.rows.get(id)

    def get(self, id: str) -> Message:
        if id not in self.rows:
            raise NotFoundError("message", id)
        return self.rows[id]

    def _oldest_first(self, keep: Callable[[Message], bool]) -> list[Message]:
        return sorted(
            (m for m in self.rows.values() if keep(m)), key=lambda m: (m.created_at, m.id)
        )

    def find_all(self) -> list[Message]:
        return self._oldest_first(lambda m: True)

    def find_pending_for_user(self) -> list[Message]:
        return self._oldest_first(
            lambda m: m.recipient_type is ParticipantType.USER and m.status is MessageStatus.PENDING
        )

    def find_requiring_response(self, *, sender_id: str | None = None) -> list[Message]:
        return self._oldest_first(
            lambda m: (
                m.requires_response
                and m.status is not MessageStatus.RESPONDED
                and (sender_id is None or m.sender_id == sender_id)
            )
        )

    def find_replies(self, parent_message_id: str) -> list[Message]:
        return self._oldest_first(lambda m: m.parent_message_id == parent_message_id)

    def find_thread(self, id: str) -> list[Message]:
        below = self.find_replies(id)
        for reply in list(below):
            below += self.find_thread(reply.id)
        return sorted(below, key=lambda m: (m.created_at, m.id))

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
    ) -> Paged[Message]:
        rows = [
            m for m in self.rows.values()
            if (sender_type is None or m.sender_type is sender_type)
            and (sender_id is None or m.sender_id == sender_id)
            and (recipient_type is None or m.recipient_type is recipient_type)
            and (recipient_id is None or m.recipient_id == recipient_id)
            and (status is None or m.status is status)
            and (parent_message_id is None or m.parent_message_id == parent_message_id)
        ]  # fmt: skip
        return page(rows, limit=limit, cursor=cursor)

    def update(self, id: str, changes: MessageUpdate) -> Message:
        row = _changed(self.get(id), changes, MessageUpdate)
        self.rows[id] = row
        return row

    def reply(self, data: NewMessage) -> tuple[Message, Message]:
        if data.parent_message_id is None:
            raise InvalidInputError("a reply needs parent_message_id", field="parent_message_id")
        parent = self.get(data.parent_message_id)
        if parent.status is MessageStatus.RESPONDED:
            raise ConflictError(f"message '{parent.id}' is already responded to")
        parent = self.update(parent.id, {"status": MessageStatus.RESPONDED})
        return parent, self.create(data)

    def delete(self, id: str) -> Removal:
        below = self.find_thread(self.get(id).id)
        for message in [self.rows[id], *below]:
            del self.rows[message.id]
        return {"replies": len(below)}


class FakeUnitOfWork:
    """The unit-of-work port over in-memory repositories: no transaction to roll back
    (fakes write at once), but events are published only when the block ends without
    an exception, as the real one does, and nested blocks join the outer one."""

    def __init__(self, owner: FakeUnitsOfWork) -> None:
        self._owner = owner

    def __enter__(self) -> FakeUnitOfWork:
        self._owner.depth += 1
        return self

    def record(self, *events: Event) -> None:
        assert self._owner.depth > 0, "record() outside the with block"
        self._owner.pending.extend(events)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._owner.depth -= 1
        if self._owner.depth:
            return
        events, self._owner.pending = tuple(self._owner.pending), []
        if exc_type is None:
            self._owner.committed.append(events)
            self._owner.stream.publish_committed(events)
        else:
            self._owner.rolled_back.append(events)


class FakeUnitsOfWork:
    """A ``UnitOfWorkFactory`` that remembers what each unit published or dropped."""

    def __init__(self, stream: ChangeStream) -> None:
        self.stream = stream
        self.depth = 0
        self.pending: list[Event] = []
        self.committed: list[tuple[Event, ...]] = []
        self.rolled_back: list[tuple[Event, ...]] = []

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    @property
    def published(self) -> list[Event]:
        return [event for events in self.committed for event in events]


if TYPE_CHECKING:  # mypy: each fake satisfies its port
    from crosswalk.db.repositories import (
        AgentRepository,
        ConversationRepository,
        MessageRepository,
    )
    from crosswalk.services.targets import PhaseLookup, TaskLookup
    from crosswalk.services.unit_of_work import UnitOfWorkFactory

    _agents: AgentRepository = FakeAgents()
    _conversations: ConversationRepository = FakeConversations()
    _messages: MessageRepository = FakeMessages()
    _tasks: TaskLookup = FakeTasks()
    _phases: PhaseLookup = FakePhases()
    _units: UnitOfWorkFactory = FakeUnitsOfWork(ChangeStream())
