"""conversations.from_agent_id may be NULL: the person asks an agent

``cw ask --agent NAME`` with the admin token asks as the person; such a conversation has
no asking agent. Existing rows all have one and are unchanged.

The downgrade deletes the person's conversations (the old schema cannot hold them), then
makes the column NOT NULL again.

Revision ID: 0011_person_asks
Revises: 0010_ownership_index
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_person_asks"
down_revision: str | None = "0010_ownership_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("from_agent_id", existing_type=sa.String(length=21), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM conversations WHERE from_agent_id IS NULL")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column("from_agent_id", existing_type=sa.String(length=21), nullable=False)
