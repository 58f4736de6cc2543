"""Adapter: conversations. This is the ask/answer hot path, so every statement
is a single indexed query held in a module-level ``HotStatement``, compiled once and
run on the driver connection, and rows are built positionally.

When ``create`` hits a foreign-key failure it looks up the agents, initiative,
phase and task it points at, so that a missing one is reported by kind and id;
the successful path pays for none of those lookups.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    columns_for,
    paginate,
)
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import agents, conversations, initiatives, messages, phases, tasks
from crosswalk.domain.enums import ConversationStatus, MessageStatus, ParticipantType
from crosswalk.domain.errors import InvalidInputError, NotFoundError
from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, Conversation, NewConversation, Paged
from crosswalk.domain.wait_graph import PERSON, WaitEdge
from crosswalk.ids import new_id

_COLUMNS = columns_for(conversations, Conversation)
_SELECT = select(*_COLUMNS)
_c = conversations.c
# The hot path's statements (``_prepared.HotStatement``).
BY_ID = HotStatement(_SELECT.where(_c.id == bindparam("id")))
PENDING_FOR_AGENT = HotStatement(
    _SELECT.where(
        _c.to_agent_id == bindparam("agent_id"), _c.status == ConversationStatus.PENDING
    ).order_by(_c.created_at, _c.id)
)
# The first page of them (what every listen and pending reads), and the asker's pending
# count that the per-pair cap checks on every ask.
PENDING_PAGE_FOR_AGENT = HotStatement(
    _SELECT.where(_c.to_agent_id == bindparam("agent_id"), _c.status == ConversationStatus.PENDING)
    .order_by(_c.created_at, _c.id)
    .limit(bindparam("limit", type_=Integer))
)
COUNT_PENDING_BETWEEN = HotStatement(
    select(func.count()).where(
        _c.to_agent_id == bindparam("to_agent_id"),
        _c.status == ConversationStatus.PENDING,
        _c.from_agent_id == bindparam("from_agent_id"),
    )
)
INSERT = HotStatement(insert(conversations).returning(*_COLUMNS))  # a parameter per column
_ADDRESSED_TO = bindparam("addressed_to", type_=_c.to_agent_id.type)
# ``addressed_to`` NULL: an administrator's answer, to whoever the question is addressed.
ANSWER = HotStatement(
    update(conversations)
    .where(
        _c.id == bindparam("answered_id"),
        _c.status == ConversationStatus.PENDING,
        or_(_ADDRESSED_TO.is_(None), _c.to_agent_id == _ADDRESSED_TO),
    )
    .values(
        answer=bindparam("answer_text"),
        status=ConversationStatus.ANSWERED,
        updated_at=bindparam("answered_at"),
    )
    .returning(*_COLUMNS)
)
# What an agent waits on: its pending questions to agents (served by
# ``ix_conversations_from_agent_id_status``) and its open questions to the person (by
# ``ix_messages_sender_id``), the latter as edges to ``PERSON``; one round trip.
_m = messages.c
WAITS_OF = HotStatement(
    union_all(
        select(_c.id, _c.to_agent_id).where(
            _c.from_agent_id == bindparam("agent_id"), _c.status == ConversationStatus.PENDING
        ),
        select(_m.id, literal(PERSON, String)).where(
            _m.sender_id == bindparam("agent_id"),
            _m.sender_type == ParticipantType.AGENT,
            _m.recipient_type == ParticipantType.USER,
            _m.requires_response == true(),
            _m.status != MessageStatus.RESPONDED,
        ),
    )
)
# What the person waits on: the questions it asked agents.
PERSON_WAITS = HotStatement(
    select(_c.id, _c.to_agent_id).where(
        _c.from_agent_id.is_(None), _c.status == ConversationStatus.PENDING
    )
)
ABANDON = HotStatement(
    update(conversations)
    .where(_c.to_agent_id == bindparam("asked_id"), _c.status == ConversationStatus.PENDING)
    .values(
        status=ConversationStatus.ABANDONED,
        abandoned_reason=bindparam("reason"),
        updated_at=bindparam("abandoned_at"),
    )
    .returning(*_COLUMNS)
)
#: The lock every ask holds from its wait-cycle check to its commit (PostgreSQL; on
#: SQLite each write transaction runs alone anyway). Without it, in read committed, two
#: asks that together close a cycle each check before the other commits and both get
#: through. One name for every ask, not one per agent or pair: a ring A -> B -> C -> A
#: is closed by three asks with three different pairs (and, for a ring of four, asks
#: that share no agent at all: A -> B with C -> D, then B -> C with D -> A), so any
#: finer key lets some ring's asks run side by side. What it serialises is short: the
#: check's few indexed reads, the insert and the commit.
WAIT_GRAPH_LOCK = "conversations-wait-graph"
# Column -> (referenced table, its kind in error messages).
_REFERENCES: dict[str, tuple[Table, str]] = {
    "from_agent_id": (agents, "agent"),
    "to_agent_id": (agents, "agent"),
    "initiative_id": (initiatives, "initiative"),
    "phase_id": (phases, "phase"),
    "task_id": (tasks, "task"),
}


class SqlAlchemyConversationRepository(SqlAlchemyRepository):
    kind = "conversation"

    def create(self, data: NewConversation) -> Conversation:
        now = self._clock.now()
        values = {
            "id": data.id or new_id(),
            "from_agent_id": data.from_agent_id,
            "to_agent_id": data.to_agent_id,
            "initiative_id": data.initiative_id,
            "phase_id": data.phase_id,
            "task_id": data.task_id,
            "question": data.question,
            "answer": None,
            "status": ConversationStatus.PENDING,
            "abandoned_reason": None,
            "target_kind": data.target_kind,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._direct(write=True) as db:
                created = db.first_as(Conversation, INSERT, values)
        except InvalidInputError:
            # The hot path leaves references to the foreign keys; only when one
            # fails do we look up which, to name it.
            with self._read() as conn:
                _require_references(conn, values)
            raise
        assert created is not None, "INSERT ... RETURNING returned no row"
        return created

    def lock_wait_graph(self) -> None:
        with self._direct(write=True) as db:
            db.serialize_on(WAIT_GRAPH_LOCK)

    def waits_of(self, node: str) -> list[WaitEdge]:
        statement, values = (PERSON_WAITS, {}) if node == PERSON else (WAITS_OF, {"agent_id": node})
        with self._direct() as db:
            rows = db.all(statement, values)
        return [WaitEdge(node, to_node, cid) for cid, to_node in rows]

    def find_by_id(self, id: str) -> Conversation | None:
        found = self._select(Conversation, BY_ID, {"id": id})
        return found[0] if found else None

    def get(self, id: str) -> Conversation:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_pending_for_agent(
        self, agent_id: str, *, after_id: str | None = None, limit: int | None = None
    ) -> list[Conversation]:
        if after_id is None and limit is None:
            return self._select(Conversation, PENDING_FOR_AGENT, {"agent_id": agent_id})
        if after_id is None:
            values = {"agent_id": agent_id, "limit": limit}
            return self._select(Conversation, PENDING_PAGE_FOR_AGENT, values)
        query = _SELECT.where(
            _c.to_agent_id == agent_id, _c.status == ConversationStatus.PENDING
        ).order_by(_c.created_at, _c.id)
        with self._read() as conn:
            after = (
                None
                if after_id is None
                else conn.execute(
                    select(_c.created_at).where(_c.id == after_id)
                ).scalar_one_or_none()
            )
            if after is not None:
                query = query.where(
                    or_(_c.created_at > after, and_(_c.created_at == after, _c.id > after_id))
                )
            if limit is not None:
                query = query.limit(limit)
            rows = conn.execute(query).all()
        return [Conversation(*row) for row in rows]

    def count_pending_between(self, from_agent_id: str, to_agent_id: str) -> int:
        values = {"from_agent_id": from_agent_id, "to_agent_id": to_agent_id}
        with self._direct() as db:
            row = db.first(COUNT_PENDING_BETWEEN, values)
        return int(row[0]) if row is not None else 0

    def find_pending_involving(self, agent_id: str) -> list[Conversation]:
        query = _SELECT.where(
            or_(_c.from_agent_id == agent_id, _c.to_agent_id == agent_id),
            _c.status == ConversationStatus.PENDING,
        ).order_by(_c.created_at, _c.id)
        with self._read() as conn:
            return [Conversation(*row) for row in conn.execute(query).all()]

    def answer(
        self, id: str, answer: str, *, addressed_to: str | None = None
    ) -> Conversation | None:
        values = {
            "answered_id": id,
            "addressed_to": addressed_to,
            "answer_text": answer,
            "answered_at": self._clock.now(),
        }
        with self._direct(write=True) as db:
            return db.first_as(Conversation, ANSWER, values)

    def abandon_pending_to(self, agent_id: str, reason: str) -> list[Conversation]:
        with self._direct(write=True) as db:
            return db.all_as(
                Conversation,
                ABANDON,
                {"asked_id": agent_id, "reason": reason, "abandoned_at": self._clock.now()},
            )

    def abandon(self, ids: list[str], reason: str) -> list[Conversation]:
        if not ids:
            return []
        statement = (
            update(conversations)
            .where(_c.id.in_(ids), _c.status == ConversationStatus.PENDING)
            .values(
                status=ConversationStatus.ABANDONED,
                abandoned_reason=reason,
                updated_at=self._clock.now(),
            )
            .returning(*_COLUMNS)
        )
        with self._write() as conn:
            rows = conn.execute(statement).all()
        return sorted((Conversation(*row) for row in rows), key=lambda c: (c.created_at, c.id))

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
        query = _SELECT
        if agent_id is not None:
            query = query.where(or_(_c.from_agent_id == agent_id, _c.to_agent_id == agent_id))
        for column, value in (
            (_c.status, status),
            (_c.initiative_id, initiative_id),
            (_c.phase_id, phase_id),
            (_c.task_id, task_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            return paginate(
                conn,
                query,
                conversations,
                Conversation,
                limit=limit,
                cursor=cursor,
                newest_first=True,
            )


def _require_references(conn: Connection, values: Mapping[str, object]) -> None:
    for column, (table, kind) in _REFERENCES.items():
        target = values.get(column)
        if target is not None and (
            conn.execute(select(table.c.id).where(table.c.id == target)).first() is None
        ):
            raise NotFoundError(kind, str(target))
