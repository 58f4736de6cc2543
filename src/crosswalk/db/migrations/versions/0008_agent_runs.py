"""agent_runs: when each run (session) of an agent ran and what its CLI said it cost

Revision ID: 0008_agent_runs
Revises: 0007_conversations_asker_index
Create Date: 2026-12-07 12:46:04.586069
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crosswalk.db.types

revision: str = "0008_agent_runs"
down_revision: str | None = "0007_conversations_asker_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("agent_name", sa.Text(), nullable=False),
        sa.Column("task_id", sa.String(length=21), nullable=True),
        sa.Column("initiative_id", sa.String(length=21), nullable=True),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("started_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("ended_at", crosswalk.db.types.EpochMillis(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "succeeded",
                "crashed",
                "stopped",
                "usage_limit",
                name="outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("turns", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_creation_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_runs")),
        sa.UniqueConstraint(
            "agent_id", "session_number", name=op.f("uq_agent_runs_agent_id_session_number")
        ),
    )
    with op.batch_alter_table("agent_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_runs_initiative_id"), ["initiative_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agent_runs_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agent_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_runs_task_id"))
        batch_op.drop_index(batch_op.f("ix_agent_runs_initiative_id"))

    op.drop_table("agent_runs")
