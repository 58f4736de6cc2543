"""approval gates the merge; dispatch state; abandoned questions; messages about tasks

Revision ID: 0005_approval_gates_merge
Revises: 0004_server_id
Create Date: 2026-11-29 18:10:00.000000

- ``tasks.status = 'pending_approval'`` changes meaning: it used to hold a task
  back from *starting* until a person approved it; now it means "the agent's run
  succeeded and the merge into the initiative branch waits for a person". A row
  held under the old meaning that never started (no agent was ever attached to
  it) becomes ``pending``: under the new rule it may start at once, and the
  approval it still needs is asked for when its work is merged. A
  ``pending_approval`` row that has an agent keeps its status: its work exists
  and now waits for the merge approval, which is what the status means today.
- ``initiatives`` gain the dispatch state (``dispatch_status``,
  ``dispatch_max_agents``, ``dispatch_provider``) of ``initiative.run``.
- ``conversations.status`` gains ``abandoned`` (the agent asked stopped, crashed or
  was deleted) with ``abandoned_reason``.
- ``messages.task_id``: the task a message is about (a checkpoint's question, a
  merge conflict), so a reply can complete the task.

Downgrade reverses each step: ``pending`` tasks whose approval is required and
that never started are held as ``pending_approval`` again, and abandoned
questions become answered with their reason as the answer (the old schema has no
other way to end a wait).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_approval_gates_merge"
down_revision: str | None = "0004_server_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_CONVERSATION_STATUS = sa.Enum(
    "pending", "answered", name="status", native_enum=False, create_constraint=True
)
_NEW_CONVERSATION_STATUS = sa.Enum(
    "pending", "answered", "abandoned", name="status", native_enum=False, create_constraint=True
)
_NEVER_STARTED = "NOT EXISTS (SELECT 1 FROM agents WHERE agents.task_id = tasks.id)"


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dispatch_status",
                sa.Enum(
                    "off",
                    "running",
                    "paused",
                    name="dispatch_status",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="off",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("dispatch_max_agents", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("dispatch_provider", sa.Text(), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_id", sa.String(length=21), nullable=True))
        batch_op.create_index(batch_op.f("ix_messages_task_id"), ["task_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_task_id_tasks"),
            "tasks",
            ["task_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("abandoned_reason", sa.Text(), nullable=True))
        batch_op.alter_column(
            "status",
            existing_type=_OLD_CONVERSATION_STATUS,
            type_=_NEW_CONVERSATION_STATUS,
            existing_nullable=False,
            existing_server_default="pending",
        )

    op.execute(
        "UPDATE tasks SET status = 'pending' "
        f"WHERE status = 'pending_approval' AND {_NEVER_STARTED}"
    )


def downgrade() -> None:
    requires_approval = (
        "COALESCE(tasks.requires_approval, (SELECT initiatives.merge_requires_approval "
        "FROM initiatives WHERE initiatives.id = tasks.initiative_id), false)"
    )
    op.execute(
        "UPDATE tasks SET status = 'pending_approval' "
        f"WHERE status = 'pending' AND {requires_approval} AND {_NEVER_STARTED}"
    )
    op.execute(
        "UPDATE conversations SET status = 'answered', "
        "answer = '(no answer: ' || COALESCE(abandoned_reason, 'abandoned') || ')' "
        "WHERE status = 'abandoned'"
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=_NEW_CONVERSATION_STATUS,
            type_=_OLD_CONVERSATION_STATUS,
            existing_nullable=False,
            existing_server_default="pending",
        )
        batch_op.drop_column("abandoned_reason")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_messages_task_id_tasks"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_messages_task_id"))
        batch_op.drop_column("task_id")

    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_column("dispatch_provider")
        batch_op.drop_column("dispatch_max_agents")
        batch_op.drop_constraint(batch_op.f("ck_initiatives_dispatch_status"), type_="check")
        batch_op.drop_column("dispatch_status")
