"""conversations.target_kind: how the asker named the target (agent, task or phase)

Rows asked before this revision keep NULL: how they were addressed was not recorded.

Revision ID: 0006_conversation_target_kind
Revises: 0005_approval_gates_merge
Create Date: 2026-11-29 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_conversation_target_kind"
down_revision: str | None = "0005_approval_gates_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "target_kind",
                sa.Enum(
                    "agent",
                    "task",
                    "phase",
                    name="target_kind",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_conversations_target_kind"), type_="check")
        batch_op.drop_column("target_kind")
