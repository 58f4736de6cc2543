"""initiatives.auto_push and initiative_projects.pushed_*: pushing the initiative branch

Whether the server pushes an initiative's branch to its projects' URLs after every
merge, and per linked project the last push: the commit, when, and why it failed.

Revision ID: 0009_initiative_push
Revises: 0008_agent_runs
Create Date: 2026-12-07 12:54:43.690815
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crosswalk.db.types

revision: str = "0009_initiative_push"
down_revision: str | None = "0008_agent_runs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("initiative_projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pushed_commit", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pushed_at", crosswalk.db.types.EpochMillis(), nullable=True))
        batch_op.add_column(sa.Column("push_error", sa.Text(), nullable=True))

    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "auto_push",
                sa.Boolean(create_constraint=True, name="auto_push"),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        if op.get_bind().dialect.name == "sqlite":  # a native boolean (PostgreSQL) has none
            batch_op.drop_constraint(batch_op.f("ck_initiatives_auto_push"), type_="check")
        batch_op.drop_column("auto_push")

    with op.batch_alter_table("initiative_projects", schema=None) as batch_op:
        batch_op.drop_column("push_error")
        batch_op.drop_column("pushed_at")
        batch_op.drop_column("pushed_commit")
