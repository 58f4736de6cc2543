"""Adapter: answers to ``--no-wait`` questions, delivered once by the asker's hooks.

``find_undelivered`` runs on every hook call of every agent (after each tool call), so it
is one prepared, indexed statement: the ``(agent_id, delivered_at)`` index finds the few
undelivered rows, the conversations' primary key joins their answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository, columns_for
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import answer_deliveries, conversations
from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.rows import Conversation

_d = answer_deliveries.c
_c = conversations.c
# The hot path's statement (``_prepared.HotStatement``).
UNDELIVERED = HotStatement(
    select(*columns_for(conversations, Conversation))
    .select_from(answer_deliveries.join(conversations, _c.id == _d.conversation_id))
    .where(
        _d.agent_id == bindparam("agent_id"),
        _d.delivered_at.is_(None),
        _c.status == ConversationStatus.ANSWERED,
    )
    .order_by(_c.updated_at, _c.id)
)


class SqlAlchemyAnswerDeliveryRepository(SqlAlchemyRepository):
    kind = "answer delivery"

    def expect(self, conversation_id: str, agent_id: str) -> None:
        values = {
            "conversation_id": conversation_id,
            "agent_id": agent_id,
            "created_at": self._clock.now(),
        }
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(answer_deliveries).values(values).on_conflict_do_nothing()
        with self._write() as conn:
            conn.execute(statement)

    def find_undelivered(self, agent_id: str) -> list[Conversation]:
        return self._select(Conversation, UNDELIVERED, {"agent_id": agent_id})

    def mark_delivered(self, agent_id: str, conversation_ids: Sequence[str]) -> int:
        if not conversation_ids:
            return 0
        statement = (
            update(answer_deliveries)
            .where(
                _d.agent_id == agent_id,
                _d.conversation_id.in_(list(conversation_ids)),
                _d.delivered_at.is_(None),
            )
            .values(delivered_at=self._clock.now())
        )
        with self._write() as conn:
            return int(conn.execute(statement).rowcount)
