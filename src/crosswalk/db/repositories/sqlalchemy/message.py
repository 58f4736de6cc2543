"""Adapter: messages between agents and the user, threaded by parent message.

A participant is a (type, id) pair: an agent has its id, the user has none
(there is one user, and no users table to point at). A reply's parent and an
agent participant must exist; both are checked in the insert's transaction so
the error names the missing one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import CTE, Connection, Select, bindparam, func, insert, select, true, update
from sqlalchemy import delete as sql_delete

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    paginate,
    require_row,
)
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import agents, messages, tasks
from crosswalk.domain.enums import MessageStatus, ParticipantType
from crosswalk.domain.errors import ConflictError, InvalidInputError
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Message,
    MessageUpdate,
    NewMessage,
    Paged,
    Removal,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

_COLUMNS = columns_for(messages, Message)
_SELECT = select(*_COLUMNS)
_c = messages.c
_OLDEST_FIRST = (_c.created_at, _c.id)
# The hot path's statement (``_prepared.HotStatement``): every hook of every agent asks
# for what the person told it; the ``recipient_id`` index finds the agent's few rows.
PENDING_FROM_USER = HotStatement(
    _SELECT.where(
        _c.recipient_id == bindparam("agent_id"),
        _c.sender_type == ParticipantType.USER,
        _c.status == MessageStatus.PENDING,
    ).order_by(*_OLDEST_FIRST)
)


class SqlAlchemyMessageRepository(SqlAlchemyRepository):
    kind = "message"

    def create(self, data: NewMessage) -> Message:
        with self._write() as conn:
            return self._insert(conn, data)

    def _insert(self, conn: Connection, data: NewMessage) -> Message:
        """Check the participants and the parent, then insert, in the caller's transaction."""
        _check_participant("sender", data.sender_type, data.sender_id)
        _check_participant("recipient", data.recipient_type, data.recipient_id)
        now = utcnow()
        values = {
            "id": data.id or new_id(),
            "sender_type": data.sender_type,
            "sender_id": data.sender_id,
            "recipient_type": data.recipient_type,
            "recipient_id": data.recipient_id,
            "type": data.type,
            "content": data.content,
            "requires_response": data.requires_response,
            "status": data.status,
            "parent_message_id": data.parent_message_id,
            "task_id": data.task_id,
            "created_at": now,
            "updated_at": now,
        }
        for agent_id in (data.sender_id, data.recipient_id):
            if agent_id is not None:
                require_row(conn, agents, "agent", agent_id)
        if data.parent_message_id is not None:
            require_row(conn, messages, "message", data.parent_message_id)
        if data.task_id is not None:
            require_row(conn, tasks, "task", data.task_id)
        row = conn.execute(insert(messages).values(values).returning(*_COLUMNS)).one()
        return Message(*row)

    def find_by_id(self, id: str) -> Message | None:
        with self._read() as conn:
            row = conn.execute(_SELECT.where(_c.id == id)).first()
        return None if row is None else Message(*row)

    def get(self, id: str) -> Message:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_all(self) -> list[Message]:
        return self._all(_SELECT.order_by(*_OLDEST_FIRST))

    def find_pending_for_user(self) -> list[Message]:
        return self._all(
            _SELECT.where(
                _c.recipient_type == ParticipantType.USER, _c.status == MessageStatus.PENDING
            ).order_by(*_OLDEST_FIRST)
        )

    def find_pending_from_user(self, agent_id: str) -> list[Message]:
        return self._select(Message, PENDING_FROM_USER, {"agent_id": agent_id})

    def mark_read(self, ids: Sequence[str]) -> list[Message]:
        if not ids:
            return []
        statement = (
            update(messages)
            .where(_c.id.in_(list(ids)), _c.status == MessageStatus.PENDING)
            .values(status=MessageStatus.READ, updated_at=utcnow())
            .returning(*_COLUMNS)
        )
        with self._write() as conn:
            rows = conn.execute(statement).all()
        return sorted((Message(*row) for row in rows), key=lambda m: (m.created_at, m.id))

    def find_requiring_response(
        self, *, sender_id: str | None = None, task_id: str | None = None
    ) -> list[Message]:
        query = _SELECT.where(_c.requires_response == true(), _c.status != MessageStatus.RESPONDED)
        if sender_id is not None:
            query = query.where(_c.sender_id == sender_id)
        if task_id is not None:
            query = query.where(_c.task_id == task_id)
        return self._all(query.order_by(*_OLDEST_FIRST))

    def find_replies(self, parent_message_id: str) -> list[Message]:
        return self._all(
            _SELECT.where(_c.parent_message_id == parent_message_id).order_by(*_OLDEST_FIRST)
        )

    def find_thread(self, id: str) -> list[Message]:
        thread = _thread_ids(id)
        return self._all(_SELECT.where(_c.id.in_(select(thread.c.id))).order_by(*_OLDEST_FIRST))

    def find_told(self, agent_ids: Collection[str], *, limit: int) -> list[Message]:
        if not agent_ids:
            return []
        query = _SELECT.where(
            _c.sender_type == ParticipantType.USER, _c.recipient_id.in_(list(agent_ids))
        )
        with self._read() as conn:
            rows = conn.execute(query.order_by(_c.created_at.desc(), _c.id.desc()).limit(limit))
            return [Message(*row) for row in rows]

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
        query = _SELECT
        for column, value in (
            (_c.sender_type, sender_type),
            (_c.sender_id, sender_id),
            (_c.recipient_type, recipient_type),
            (_c.recipient_id, recipient_id),
            (_c.status, status),
            (_c.parent_message_id, parent_message_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            return paginate(conn, query, messages, Message, limit=limit, cursor=cursor)

    def update(self, id: str, changes: MessageUpdate) -> Message:
        values = checked_changes(self.kind, changes, MessageUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            return self._update_row(conn, messages, Message, id, values)

    def reply(self, data: NewMessage) -> tuple[Message, Message]:
        parent_id = data.parent_message_id
        if parent_id is None:
            raise InvalidInputError("a reply needs parent_message_id", field="parent_message_id")
        with self._write() as conn:
            # Conditional, inside the write transaction: the loser of two racing
            # replies finds the parent already responded and writes nothing.
            parent = conn.execute(
                update(messages)
                .where(_c.id == parent_id, _c.status != MessageStatus.RESPONDED)
                .values(status=MessageStatus.RESPONDED, updated_at=utcnow())
                .returning(*_COLUMNS)
            ).first()
            if parent is None:
                require_row(conn, messages, self.kind, parent_id)
                raise ConflictError(f"message '{parent_id}' is already responded to")
            row = self._insert(conn, data)
        return Message(*parent), row

    def delete(self, id: str) -> Removal:
        with self._write() as conn:
            require_row(conn, messages, self.kind, id)
            replies = _count_replies(conn, id)
            conn.execute(sql_delete(messages).where(_c.id == id))
        return {"replies": replies}

    def _all(self, query: Select[Any]) -> list[Message]:
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Message(*row) for row in rows]


def _check_participant(role: str, participant: ParticipantType, id: str | None) -> None:
    """An agent participant needs its id; the user has none to give."""
    if participant == ParticipantType.AGENT and id is None:
        raise InvalidInputError(f"an agent {role} needs {role}_id", field=f"{role}_id")
    if participant == ParticipantType.USER and id is not None:
        raise InvalidInputError(
            f"a user {role} has no {role}_id (it refers to agents)", field=f"{role}_id"
        )


def _thread_ids(id: str) -> CTE:
    """The ids of every reply below message ``id``, at any depth (a recursive CTE)."""
    thread = select(_c.id).where(_c.parent_message_id == id).cte("thread", recursive=True)
    reply = messages.alias("reply")
    return thread.union(select(reply.c.id).join(thread, reply.c.parent_message_id == thread.c.id))


def _count_replies(conn: Connection, id: str) -> int:
    """Replies at any depth: ON DELETE CASCADE on the parent takes them all."""
    thread = _thread_ids(id)
    return int(conn.execute(select(func.count()).select_from(thread)).scalar_one())
