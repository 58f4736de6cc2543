"""agent runner: the agent process's start time

Revision ID: 0003_agent_runner
Revises: 0002_encrypt_account_secrets
Create Date: 2026-11-29 18:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_agent_runner"
down_revision: str | None = "0002_encrypt_account_secrets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("process_started_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("process_started_at")
