"""answering_runs: an idle agent resumed to answer the questions waiting for it

One row per such run: the agent, its log session, the questions its prompt listed, when
it started and ended, how it ended, and the paths it left changed in its worktree.

Revision ID: 0012_answering_runs
Revises: 0011_person_asks
Create Date: 2026-12-08 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosswalk.db.types import EpochMillis, JsonText

revision: str = "0012_answering_runs"
down_revision: str | None = "0011_person_asks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answering_runs",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("session_number", sa.Integer(), nullable=False),
        sa.Column("question_ids", JsonText(), nullable=False),
        sa.Column("started_at", EpochMillis(), nullable=False),
        sa.Column("ended_at", EpochMillis(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("left_changes", JsonText(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_answering_runs_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answering_runs")),
    )
    with op.batch_alter_table("answering_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answering_runs_agent_id"), ["agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answering_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answering_runs_agent_id"))
    op.drop_table("answering_runs")
