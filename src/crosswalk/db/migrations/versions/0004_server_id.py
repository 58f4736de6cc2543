"""agents.server_id: which server runs an agent

Revision ID: 0004_server_id
Revises: 0003_agent_runner
Create Date: 2026-11-29 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_server_id"
down_revision: str | None = "0003_agent_runner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("server_id", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_agents_server_id"), ["server_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_server_id"))
        batch_op.drop_column("server_id")
