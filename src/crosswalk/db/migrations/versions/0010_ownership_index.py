"""the ownership index: file_changes, overlap_notices, merge_previews; target kind 'file'

``file_changes`` records which agent's work changed which file (unmerged, or merged into
the initiative branch), so a question can be asked by file; ``overlap_notices`` the
agents told that another agent's unmerged work changed a file theirs changed;
``merge_previews`` whether two agents' unmerged work would merge cleanly. A
conversation's ``target_kind`` may now be ``file``.

Revision ID: 0010_ownership_index
Revises: 0009_initiative_push
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crosswalk.db.types

revision: str = "0010_ownership_index"
down_revision: str | None = "0009_initiative_push"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _agent_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["agents.id"], name=op.f(f"fk_{table}_{column}_agents"), ondelete="CASCADE"
    )


def _initiative_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["initiative_id"],
        ["initiatives.id"],
        name=op.f(f"fk_{table}_initiative_id_initiatives"),
        ondelete="CASCADE",
    )


def _target_kinds(*values: str) -> sa.Enum:
    return sa.Enum(*values, name="target_kind", native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.create_table(
        "file_changes",
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("merged", sa.Boolean(create_constraint=True, name="merged"), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column("task_id", sa.String(length=21), nullable=True),
        sa.Column("lines", crosswalk.db.types.JsonText(), nullable=False),
        sa.Column("changed_at", crosswalk.db.types.EpochMillis(), nullable=False),
        _agent_fk("file_changes", "agent_id"),
        _initiative_fk("file_changes"),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_file_changes_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("agent_id", "merged", "path", name=op.f("pk_file_changes")),
    )
    op.create_index("ix_file_changes_initiative_id_path", "file_changes", ["initiative_id", "path"])
    op.create_table(
        "overlap_notices",
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("other_agent_id", sa.String(length=21), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("delivered_at", crosswalk.db.types.EpochMillis(), nullable=True),
        _agent_fk("overlap_notices", "agent_id"),
        _agent_fk("overlap_notices", "other_agent_id"),
        _initiative_fk("overlap_notices"),
        sa.PrimaryKeyConstraint(
            "agent_id", "other_agent_id", "path", name=op.f("pk_overlap_notices")
        ),
    )
    op.create_index("ix_overlap_notices_other_agent_id", "overlap_notices", ["other_agent_id"])
    op.create_table(
        "merge_previews",
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("other_agent_id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column(
            "conflicts", sa.Boolean(create_constraint=True, name="conflicts"), nullable=False
        ),
        sa.Column("files", crosswalk.db.types.JsonText(), nullable=False),
        sa.Column("checked_at", crosswalk.db.types.EpochMillis(), nullable=False),
        _agent_fk("merge_previews", "agent_id"),
        _agent_fk("merge_previews", "other_agent_id"),
        _initiative_fk("merge_previews"),
        sa.PrimaryKeyConstraint("agent_id", "other_agent_id", name=op.f("pk_merge_previews")),
    )
    op.create_index("ix_merge_previews_other_agent_id", "merge_previews", ["other_agent_id"])
    op.create_index(op.f("ix_merge_previews_initiative_id"), "merge_previews", ["initiative_id"])
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "target_kind",
            existing_type=_target_kinds("agent", "task", "phase"),
            type_=_target_kinds("agent", "task", "phase", "file"),
            existing_nullable=True,
        )


def downgrade() -> None:
    op.execute("UPDATE conversations SET target_kind = NULL WHERE target_kind = 'file'")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.alter_column(
            "target_kind",
            existing_type=_target_kinds("agent", "task", "phase", "file"),
            type_=_target_kinds("agent", "task", "phase"),
            existing_nullable=True,
        )
    op.drop_index(op.f("ix_merge_previews_initiative_id"), table_name="merge_previews")
    op.drop_index("ix_merge_previews_other_agent_id", table_name="merge_previews")
    op.drop_table("merge_previews")
    op.drop_index("ix_overlap_notices_other_agent_id", table_name="overlap_notices")
    op.drop_table("overlap_notices")
    op.drop_index("ix_file_changes_initiative_id_path", table_name="file_changes")
    op.drop_table("file_changes")
