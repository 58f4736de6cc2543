"""answer deliveries: answers to --no-wait questions, delivered once by the asker's hooks

Revision ID: 0002_answer_deliveries
Revises: 0001
Create Date: 2026-11-29 17:58:23.023197
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crosswalk.db.types

revision: str = "0002_answer_deliveries"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "answer_deliveries",
        sa.Column("conversation_id", sa.String(length=21), nullable=False),
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("delivered_at", crosswalk.db.types.EpochMillis(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_answer_deliveries_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_answer_deliveries_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_answer_deliveries")),
    )
    with op.batch_alter_table("answer_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_answer_deliveries_agent_id_delivered_at", ["agent_id", "delivered_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("answer_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_deliveries_agent_id_delivered_at")

    op.drop_table("answer_deliveries")
