"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 07:12:26.587934
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crosswalk.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), server_default="claude", nullable=False),
        sa.Column("config_json", sa.Text(), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=True),
        sa.Column(
            "is_exhausted",
            sa.Boolean(create_constraint=True, name="is_exhausted"),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column("exhausted_until", crosswalk.db.types.EpochMillis(), nullable=True),
        sa.Column("last_used_at", crosswalk.db.types.EpochMillis(), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
    )
    op.create_table(
        "agent_log_chunks",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("agent_name", sa.Text(), nullable=False),
        sa.Column("session_number", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_log_chunks")),
    )
    with op.batch_alter_table("agent_log_chunks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_log_chunks_agent_id"), ["agent_id"], unique=False
        )

    op.create_table(
        "initiatives",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "completed",
                "archived",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="active",
            nullable=False,
        ),
        sa.Column(
            "merge_requires_approval",
            sa.Boolean(create_constraint=True, name="merge_requires_approval"),
            server_default=sa.true(),
            nullable=False,
        ),
        sa.Column("branch", sa.Text(), nullable=True),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
        sa.UniqueConstraint("branch", name=op.f("uq_initiatives_branch")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("default_branch", sa.Text(), server_default="main", nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        sa.UniqueConstraint("url", name=op.f("uq_projects_url")),
    )
    op.create_table(
        "initiative_projects",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column("project_id", sa.String(length=21), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_initiative_projects_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_initiative_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_projects")),
        sa.UniqueConstraint(
            "initiative_id",
            "project_id",
            name=op.f("uq_initiative_projects_initiative_id_project_id"),
        ),
    )
    with op.batch_alter_table("initiative_projects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_projects_project_id"), ["project_id"], unique=False
        )

    op.create_table(
        "pages",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column("parent_page_id", sa.String(length=21), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("content", crosswalk.db.types.JsonText(), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_pages_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_page_id"],
            ["pages.id"],
            name=op.f("fk_pages_parent_page_id_pages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pages")),
    )
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pages_initiative_id"), ["initiative_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pages_parent_page_id"), ["parent_page_id"], unique=False
        )
        batch_op.create_index(
            "ux_pages_root_per_initiative",
            ["initiative_id"],
            unique=True,
            sqlite_where=sa.text("parent_page_id IS NULL"),
            postgresql_where=sa.text("parent_page_id IS NULL"),
        )

    op.create_table(
        "phases",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content", crosswalk.db.types.JsonText(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "in_progress",
                "completed",
                "blocked",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_phases_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phases")),
    )
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phases_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "phase_dependencies",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("phase_id", sa.String(length=21), nullable=False),
        sa.Column("depends_on_phase_id", sa.String(length=21), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depends_on_phase_id"],
            ["phases.id"],
            name=op.f("fk_phase_dependencies_depends_on_phase_id_phases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["phases.id"],
            name=op.f("fk_phase_dependencies_phase_id_phases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phase_dependencies")),
        sa.UniqueConstraint(
            "phase_id",
            "depends_on_phase_id",
            name=op.f("uq_phase_dependencies_phase_id_depends_on_phase_id"),
        ),
    )
    with op.batch_alter_table("phase_dependencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phase_dependencies_depends_on_phase_id"),
            ["depends_on_phase_id"],
            unique=False,
        )

    op.create_table(
        "tasks",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("phase_id", sa.String(length=21), nullable=True),
        sa.Column("initiative_id", sa.String(length=21), nullable=True),
        sa.Column("parent_task_id", sa.String(length=21), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "type",
            sa.Enum(
                "auto",
                "checkpoint:human-verify",
                "checkpoint:decision",
                "checkpoint:human-action",
                name="type",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="auto",
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "execute",
                "research",
                "discuss",
                "plan",
                "detail",
                "refine",
                "verify",
                "merge",
                "review",
                name="category",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="execute",
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "low", "medium", "high", name="priority", native_enum=False, create_constraint=True
            ),
            server_default="medium",
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending_approval",
                "pending",
                "in_progress",
                "completed",
                "blocked",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column(
            "requires_approval",
            sa.Boolean(create_constraint=True, name="requires_approval"),
            nullable=True,
        ),
        sa.Column("order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_tasks_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_task_id"],
            ["tasks.id"],
            name=op.f("fk_tasks_parent_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["phase_id"], ["phases.id"], name=op.f("fk_tasks_phase_id_phases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tasks_initiative_id"), ["initiative_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tasks_parent_task_id"), ["parent_task_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tasks_phase_id"), ["phase_id"], unique=False)

    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("task_id", sa.String(length=21), nullable=True),
        sa.Column("initiative_id", sa.String(length=21), nullable=True),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("worktree_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), server_default="claude", nullable=False),
        sa.Column("account_id", sa.String(length=21), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "idle",
                "running",
                "waiting_for_input",
                "stopped",
                "crashed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="idle",
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum(
                "execute",
                "discuss",
                "plan",
                "detail",
                "refine",
                name="mode",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="execute",
            nullable=False,
        ),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output_file_path", sa.Text(), nullable=True),
        sa.Column("result", crosswalk.db.types.JsonText(), nullable=True),
        sa.Column("pending_questions", crosswalk.db.types.JsonText(), nullable=True),
        sa.Column("user_dismissed_at", crosswalk.db.types.EpochMillis(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_agents_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_agents_initiative_id_initiatives"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_agents_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("name", name=op.f("uq_agents_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_agents_token_hash")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agents_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_agents_initiative_id"), ["initiative_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agents_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agents_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_dependencies",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("task_id", sa.String(length=21), nullable=False),
        sa.Column("depends_on_task_id", sa.String(length=21), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["depends_on_task_id"],
            ["tasks.id"],
            name=op.f("fk_task_dependencies_depends_on_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_task_dependencies_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_dependencies")),
        sa.UniqueConstraint(
            "task_id",
            "depends_on_task_id",
            name=op.f("uq_task_dependencies_task_id_depends_on_task_id"),
        ),
    )
    with op.batch_alter_table("task_dependencies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_task_dependencies_depends_on_task_id"),
            ["depends_on_task_id"],
            unique=False,
        )

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("from_agent_id", sa.String(length=21), nullable=False),
        sa.Column("to_agent_id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=True),
        sa.Column("phase_id", sa.String(length=21), nullable=True),
        sa.Column("task_id", sa.String(length=21), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "answered", name="status", native_enum=False, create_constraint=True
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_agent_id"],
            ["agents.id"],
            name=op.f("fk_conversations_from_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_conversations_initiative_id_initiatives"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["phase_id"],
            ["phases.id"],
            name=op.f("fk_conversations_phase_id_phases"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_conversations_task_id_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_agent_id"],
            ["agents.id"],
            name=op.f("fk_conversations_to_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index("ix_conversations_from_agent_id", ["from_agent_id"], unique=False)
        batch_op.create_index(
            "ix_conversations_to_agent_id_status", ["to_agent_id", "status"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column(
            "sender_type",
            sa.Enum("agent", "user", name="sender_type", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("sender_id", sa.String(length=21), nullable=True),
        sa.Column(
            "recipient_type",
            sa.Enum(
                "agent", "user", name="recipient_type", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("recipient_id", sa.String(length=21), nullable=True),
        sa.Column(
            "type",
            sa.Enum(
                "question",
                "info",
                "error",
                "response",
                name="type",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="info",
            nullable=False,
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column(
            "requires_response",
            sa.Boolean(create_constraint=True, name="requires_response"),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "read",
                "responded",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("parent_message_id", sa.String(length=21), nullable=True),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_message_id"],
            ["messages.id"],
            name=op.f("fk_messages_parent_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["agents.id"],
            name=op.f("fk_messages_recipient_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["agents.id"],
            name=op.f("fk_messages_sender_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_parent_message_id"), ["parent_message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messages_recipient_id"), ["recipient_id"], unique=False
        )
        batch_op.create_index(
            "ix_messages_recipient_type_status", ["recipient_type", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_messages_sender_id"), ["sender_id"], unique=False)

    op.create_table(
        "proposals",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("agent_id", sa.String(length=21), nullable=False),
        sa.Column("initiative_id", sa.String(length=21), nullable=False),
        sa.Column(
            "target_type",
            sa.Enum(
                "page",
                "phase",
                "task",
                name="target_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("target_id", sa.String(length=21), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("metadata", crosswalk.db.types.JsonText(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "accepted",
                "dismissed",
                name="status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="pending",
            nullable=False,
        ),
        sa.Column("sort_order", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.Column("updated_at", crosswalk.db.types.EpochMillis(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_proposals_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_proposals_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposals_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_proposals_initiative_id"), ["initiative_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_initiative_id"))
        batch_op.drop_index(batch_op.f("ix_proposals_agent_id"))

    op.drop_table("proposals")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_sender_id"))
        batch_op.drop_index("ix_messages_recipient_type_status")
        batch_op.drop_index(batch_op.f("ix_messages_recipient_id"))
        batch_op.drop_index(batch_op.f("ix_messages_parent_message_id"))

    op.drop_table("messages")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_to_agent_id_status")
        batch_op.drop_index("ix_conversations_from_agent_id")

    op.drop_table("conversations")
    with op.batch_alter_table("task_dependencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_dependencies_depends_on_task_id"))

    op.drop_table("task_dependencies")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_task_id"))
        batch_op.drop_index(batch_op.f("ix_agents_session_id"))
        batch_op.drop_index(batch_op.f("ix_agents_initiative_id"))
        batch_op.drop_index(batch_op.f("ix_agents_account_id"))

    op.drop_table("agents")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tasks_phase_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_parent_task_id"))
        batch_op.drop_index(batch_op.f("ix_tasks_initiative_id"))

    op.drop_table("tasks")
    with op.batch_alter_table("phase_dependencies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phase_dependencies_depends_on_phase_id"))

    op.drop_table("phase_dependencies")
    with op.batch_alter_table("phases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phases_initiative_id"))

    op.drop_table("phases")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_pages_root_per_initiative",
            sqlite_where=sa.text("parent_page_id IS NULL"),
            postgresql_where=sa.text("parent_page_id IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_pages_parent_page_id"))
        batch_op.drop_index(batch_op.f("ix_pages_initiative_id"))

    op.drop_table("pages")
    with op.batch_alter_table("initiative_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_projects_project_id"))

    op.drop_table("initiative_projects")
    op.drop_table("projects")
    op.drop_table("initiatives")
    with op.batch_alter_table("agent_log_chunks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_log_chunks_agent_id"))

    op.drop_table("agent_log_chunks")
    op.drop_table("accounts")
