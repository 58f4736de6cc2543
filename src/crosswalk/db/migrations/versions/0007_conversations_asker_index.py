"""conversations: index the asker's pending questions (from_agent_id, status, to_agent_id)

``ix_conversations_from_agent_id (from_agent_id)`` left two statements that run on every
ask reading the asker's whole history: the per-pair cap's count (SQLite's planner chose
it over ``(to_agent_id, status)``) and the wait-cycle walk (``from_agent_id = ? AND
status = 'pending'``). An agent that had asked 10,000 questions paid for all of them on
each new one. The three-column index serves both from the pending rows alone (the count
from the index only) and still serves lookups by ``from_agent_id`` alone.

Revision ID: 0007_conversations_asker_index
Revises: 0006_conversation_target_kind
Create Date: 2026-11-29 21:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_conversations_asker_index"
down_revision: str | None = "0006_conversation_target_kind"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_conversations_from_agent_id_status",
        "conversations",
        ["from_agent_id", "status", "to_agent_id"],
        unique=False,
    )
    op.drop_index("ix_conversations_from_agent_id", table_name="conversations")


def downgrade() -> None:
    op.create_index(
        "ix_conversations_from_agent_id", "conversations", ["from_agent_id"], unique=False
    )
    op.drop_index("ix_conversations_from_agent_id_status", table_name="conversations")
