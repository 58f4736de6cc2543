"""servers and placements: agents on several machines

``servers``: each ``cw serve`` of the deployment, its capacity and its heartbeat.
``placements``: the server dispatch placed a claimed task's agent on, until that server
started it.

Revision ID: 0013_servers
Revises: 0012_answering_runs
Create Date: 2026-12-07 16:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crosswalk.db.types import EpochMillis

revision: str = "0013_servers"
down_revision: str | None = "0012_answering_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "servers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column(
            "worker",
            sa.Boolean(create_constraint=True, name="worker"),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column("started_at", EpochMillis(), nullable=False),
        sa.Column("heartbeat_at", EpochMillis(), nullable=False),
        sa.Column("lease_lost_at", EpochMillis(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_servers")),
    )
    op.create_table(
        "placements",
        sa.Column("task_id", sa.String(length=21), nullable=False),
        sa.Column("server_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("placed_at", EpochMillis(), nullable=False),
        sa.Column("claimed_at", EpochMillis(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_placements_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_placements")),
    )
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_placements_server_id"), ["server_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_placements_server_id"))
    op.drop_table("placements")
    op.drop_table("servers")
