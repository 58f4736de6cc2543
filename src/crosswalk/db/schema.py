"""Every table of the orchestration database, as SQLAlchemy Core.

This module is the single source of truth for the schema: Alembic autogenerates
migrations from ``metadata`` and a test proves the migrations' head matches it.
Column names are snake_case in SQL (as Drizzle wrote them) and camelCase in the
API. Enumerations are stored as text guarded by named CHECK constraints, so the
database itself refuses a bad value. ``docs/database.md`` explains each table.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from crosswalk.db.types import EpochMillis, JsonText, SecretText
from crosswalk.domain.enums import (
    AgentMode,
    AgentStatus,
    ConversationStatus,
    DispatchStatus,
    InitiativeStatus,
    MessageStatus,
    MessageType,
    ParticipantType,
    PhaseStatus,
    ProposalStatus,
    ProposalTargetType,
    RunEnd,
    TargetKind,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)

# A naming convention gives every constraint a stable name, which Alembic's
# batch mode needs to alter SQLite tables, and which keeps migrations portable.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID_LENGTH = 21


def _enum(enum: type[StrEnum], name: str) -> Enum:
    """Text column restricted by a named CHECK constraint to the enum's values."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(member.value) for member in enum),
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


def _id() -> Column[str]:
    return Column("id", String(ID_LENGTH), primary_key=True)


def _fk(
    name: str, target: str, *, ondelete: str | None, nullable: bool = True, index: bool = True
) -> Column[str]:
    return Column(
        name,
        String(ID_LENGTH),
        ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=index,
    )


def _timestamps() -> tuple[Column[object], Column[object]]:
    return (
        Column("created_at", EpochMillis(), nullable=False),
        Column("updated_at", EpochMillis(), nullable=False),
    )


def _sort_order() -> Column[int]:
    return Column("sort_order", Integer, nullable=False, server_default=text("0"))


def _flag(name: str, *, default: bool, nullable: bool = False) -> Column[bool]:
    return Column(
        name,
        Boolean(create_constraint=True, name=name),
        nullable=nullable,
        server_default=None if nullable else (true() if default else false()),
    )


initiatives = Table(
    "initiatives",
    metadata,
    _id(),
    Column("name", Text, nullable=False),
    Column(
        "status",
        _enum(InitiativeStatus, "status"),
        nullable=False,
        server_default=InitiativeStatus.ACTIVE.value,
    ),
    _flag("merge_requires_approval", default=True),
    Column("branch", Text, nullable=True, unique=True),
    Column(
        "dispatch_status",
        _enum(DispatchStatus, "dispatch_status"),
        nullable=False,
        server_default=DispatchStatus.OFF.value,
    ),
    Column("dispatch_max_agents", Integer, nullable=True),
    Column("dispatch_provider", Text, nullable=True),
    # Not in the seed: push the initiative branch to each project's URL after every merge.
    _flag("auto_push", default=False),
    *_timestamps(),
)

phases = Table(
    "phases",
    metadata,
    _id(),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False),
    Column("name", Text, nullable=False),
    Column("content", JsonText, nullable=True),
    Column(
        "status",
        _enum(PhaseStatus, "status"),
        nullable=False,
        server_default=PhaseStatus.PENDING.value,
    ),
    *_timestamps(),
)

phase_dependencies = Table(
    "phase_dependencies",
    metadata,
    _id(),
    _fk("phase_id", "phases.id", ondelete="CASCADE", nullable=False, index=False),
    _fk("depends_on_phase_id", "phases.id", ondelete="CASCADE", nullable=False),
    Column("created_at", EpochMillis(), nullable=False),
    UniqueConstraint("phase_id", "depends_on_phase_id"),
)

tasks = Table(
    "tasks",
    metadata,
    _id(),
    _fk("phase_id", "phases.id", ondelete="CASCADE"),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE"),
    _fk("parent_task_id", "tasks.id", ondelete="CASCADE"),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("type", _enum(TaskType, "type"), nullable=False, server_default=TaskType.AUTO.value),
    Column(
        "category",
        _enum(TaskCategory, "category"),
        nullable=False,
        server_default=TaskCategory.EXECUTE.value,
    ),
    Column(
        "priority",
        _enum(TaskPriority, "priority"),
        nullable=False,
        server_default=TaskPriority.MEDIUM.value,
    ),
    Column(
        "status",
        _enum(TaskStatus, "status"),
        nullable=False,
        server_default=TaskStatus.PENDING.value,
    ),
    _flag("requires_approval", default=False, nullable=True),
    Column("order", Integer, nullable=False, server_default=text("0")),
    *_timestamps(),
)

task_dependencies = Table(
    "task_dependencies",
    metadata,
    _id(),
    _fk("task_id", "tasks.id", ondelete="CASCADE", nullable=False, index=False),
    _fk("depends_on_task_id", "tasks.id", ondelete="CASCADE", nullable=False),
    Column("created_at", EpochMillis(), nullable=False),
    UniqueConstraint("task_id", "depends_on_task_id"),
)

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("email", Text, nullable=False),
    Column("provider", Text, nullable=False, server_default="claude"),
    Column("config_json", SecretText(), nullable=True),  # encrypted at rest
    Column("credentials", SecretText(), nullable=True),  # encrypted at rest
    _flag("is_exhausted", default=False),
    Column("exhausted_until", EpochMillis(), nullable=True),
    Column("last_used_at", EpochMillis(), nullable=True),
    _sort_order(),
    *_timestamps(),
)

agents = Table(
    "agents",
    metadata,
    _id(),
    Column("name", Text, nullable=False, unique=True),
    _fk("task_id", "tasks.id", ondelete="SET NULL"),
    _fk("initiative_id", "initiatives.id", ondelete="SET NULL"),
    Column("session_id", Text, nullable=True, index=True),
    Column("worktree_id", Text, nullable=False),
    Column("provider", Text, nullable=False, server_default="claude"),
    _fk("account_id", "accounts.id", ondelete="SET NULL"),
    Column(
        "status",
        _enum(AgentStatus, "status"),
        nullable=False,
        server_default=AgentStatus.IDLE.value,
    ),
    Column(
        "mode", _enum(AgentMode, "mode"), nullable=False, server_default=AgentMode.EXECUTE.value
    ),
    Column("pid", Integer, nullable=True),
    # Not in the seed: the process's start time (clock ticks after boot, from
    # /proc/<pid>/stat), so a pid the system handed to another process is never
    # mistaken for the agent's.
    Column("process_started_at", BigInteger, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("output_file_path", Text, nullable=True),
    Column("result", JsonText, nullable=True),
    Column("pending_questions", JsonText, nullable=True),
    Column("user_dismissed_at", EpochMillis(), nullable=True),
    # The server authenticates agents by a token it keeps only hashed.
    Column("token_hash", String(64), nullable=True, unique=True),
    # Not in the seed: which server runs the agent's process (``CW_SERVER_ID``); None
    # for an agent no server runs. A restarted server reconciles only its own.
    Column("server_id", Text, nullable=True, index=True),
    *_timestamps(),
)

proposals = Table(
    "proposals",
    metadata,
    _id(),
    _fk("agent_id", "agents.id", ondelete="CASCADE", nullable=False),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False),
    Column("target_type", _enum(ProposalTargetType, "target_type"), nullable=False),
    Column("target_id", String(ID_LENGTH), nullable=True),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=True),
    Column("content", Text, nullable=True),
    Column("metadata", JsonText, nullable=True),
    Column(
        "status",
        _enum(ProposalStatus, "status"),
        nullable=False,
        server_default=ProposalStatus.PENDING.value,
    ),
    _sort_order(),
    *_timestamps(),
)

pages = Table(
    "pages",
    metadata,
    _id(),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False),
    _fk("parent_page_id", "pages.id", ondelete="CASCADE"),
    Column("title", Text, nullable=False),
    Column("content", JsonText, nullable=True),
    _sort_order(),
    *_timestamps(),
    # One root page per initiative, enforced by the database so racing callers
    # of getOrCreateRootPage cannot both insert one (a partial unique index).
    Index(
        "ux_pages_root_per_initiative",
        "initiative_id",
        unique=True,
        sqlite_where=text("parent_page_id IS NULL"),
        postgresql_where=text("parent_page_id IS NULL"),
    ),
)

projects = Table(
    "projects",
    metadata,
    _id(),
    Column("name", Text, nullable=False, unique=True),
    Column("url", Text, nullable=False, unique=True),
    Column("default_branch", Text, nullable=False, server_default="main"),
    *_timestamps(),
)

initiative_projects = Table(
    "initiative_projects",
    metadata,
    _id(),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False, index=False),
    _fk("project_id", "projects.id", ondelete="CASCADE", nullable=False),
    Column("created_at", EpochMillis(), nullable=False),
    # Not in the seed: the last push of the initiative branch to the project's URL.
    Column("pushed_commit", Text, nullable=True),
    Column("pushed_at", EpochMillis(), nullable=True),
    Column("push_error", Text, nullable=True),  # why the last push failed, if it did
    UniqueConstraint("initiative_id", "project_id"),
)

messages = Table(
    "messages",
    metadata,
    _id(),
    Column("sender_type", _enum(ParticipantType, "sender_type"), nullable=False),
    _fk("sender_id", "agents.id", ondelete="SET NULL"),
    Column("recipient_type", _enum(ParticipantType, "recipient_type"), nullable=False),
    _fk("recipient_id", "agents.id", ondelete="SET NULL"),
    Column(
        "type", _enum(MessageType, "type"), nullable=False, server_default=MessageType.INFO.value
    ),
    Column("content", Text, nullable=False),
    _flag("requires_response", default=False),
    Column(
        "status",
        _enum(MessageStatus, "status"),
        nullable=False,
        server_default=MessageStatus.PENDING.value,
    ),
    _fk("parent_message_id", "messages.id", ondelete="CASCADE"),
    # The task the message is about (a checkpoint's question, a merge conflict).
    _fk("task_id", "tasks.id", ondelete="SET NULL"),
    *_timestamps(),
    Index("ix_messages_recipient_type_status", "recipient_type", "status"),
)

agent_log_chunks = Table(
    "agent_log_chunks",
    metadata,
    _id(),
    # No foreign key: the log outlives the agent it came from.
    Column("agent_id", String(ID_LENGTH), nullable=False, index=True),
    Column("agent_name", Text, nullable=False),
    Column("session_number", Integer, nullable=False, server_default=text("1")),
    Column("content", Text, nullable=False),
    Column("created_at", EpochMillis(), nullable=False),
)

# One row per run (session) of an agent's process: when it ran and what its CLI reported
# it cost. No foreign keys: like the log, the record of what was spent outlives the
# agent, and the task and initiative it worked for are kept as they were.
agent_runs = Table(
    "agent_runs",
    metadata,
    _id(),
    Column("agent_id", String(ID_LENGTH), nullable=False),
    Column("agent_name", Text, nullable=False),
    Column("task_id", String(ID_LENGTH), nullable=True, index=True),
    Column("initiative_id", String(ID_LENGTH), nullable=True, index=True),
    Column("session_number", Integer, nullable=False),
    Column("provider", Text, nullable=False),
    Column("started_at", EpochMillis(), nullable=False),
    Column("ended_at", EpochMillis(), nullable=True),
    Column("outcome", _enum(RunEnd, "outcome"), nullable=True),
    Column("cost_usd", Float, nullable=True),
    Column("turns", Integer, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("input_tokens", BigInteger, nullable=True),
    Column("output_tokens", BigInteger, nullable=True),
    Column("cache_creation_tokens", BigInteger, nullable=True),
    Column("cache_read_tokens", BigInteger, nullable=True),
    UniqueConstraint("agent_id", "session_number"),
)

conversations = Table(
    "conversations",
    metadata,
    _id(),
    # NULL: the person asked (``cw ask --agent`` with the admin token).
    _fk("from_agent_id", "agents.id", ondelete="CASCADE", index=False),
    _fk("to_agent_id", "agents.id", ondelete="CASCADE", nullable=False, index=False),
    _fk("initiative_id", "initiatives.id", ondelete="SET NULL", index=False),
    _fk("phase_id", "phases.id", ondelete="SET NULL", index=False),
    _fk("task_id", "tasks.id", ondelete="SET NULL", index=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=True),
    Column(
        "status",
        _enum(ConversationStatus, "status"),
        nullable=False,
        server_default=ConversationStatus.PENDING.value,
    ),
    Column("abandoned_reason", Text, nullable=True),
    Column("target_kind", _enum(TargetKind, "target_kind"), nullable=True),
    *_timestamps(),
    Index("ix_conversations_to_agent_id_status", "to_agent_id", "status"),
    # The asker's side, on every ask: the per-pair cap's count and the wait-cycle walk
    # read only pending rows (an asker's answered history can be long).
    Index("ix_conversations_from_agent_id_status", "from_agent_id", "status", "to_agent_id"),
)

# Answers the asker did not wait for (``cw ask --no-wait``): the agent's hooks deliver
# them once, then record when (docs/hooks.md). One row per such conversation.
answer_deliveries = Table(
    "answer_deliveries",
    metadata,
    Column(
        "conversation_id",
        String(ID_LENGTH),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _fk("agent_id", "agents.id", ondelete="CASCADE", nullable=False, index=False),
    Column("created_at", EpochMillis(), nullable=False),
    Column("delivered_at", EpochMillis(), nullable=True),
    Index("ix_answer_deliveries_agent_id_delivered_at", "agent_id", "delivered_at"),
)

# The ownership index: which agent's work changed which file (docs/dispatch.md,
# "Who changed a file"). Kept from the agents' worktrees as they work and from each
# merge, so asking by file reads one indexed row set instead of running git.
file_changes = Table(
    "file_changes",
    metadata,
    Column(
        "agent_id",
        String(ID_LENGTH),
        ForeignKey("agents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("merged", Boolean(create_constraint=True, name="merged"), primary_key=True),
    Column("path", Text, primary_key=True),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False, index=False),
    _fk("task_id", "tasks.id", ondelete="SET NULL", index=False),
    # [[first, last], ...] in the changed version, 1-based; [] is the whole file.
    Column("lines", JsonText(), nullable=False),
    Column("changed_at", EpochMillis(), nullable=False),
    Index("ix_file_changes_initiative_id_path", "initiative_id", "path"),
)

# Two agents whose unmerged work changed one file are each told once, by their hooks.
overlap_notices = Table(
    "overlap_notices",
    metadata,
    Column(
        "agent_id",
        String(ID_LENGTH),
        ForeignKey("agents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "other_agent_id",
        String(ID_LENGTH),
        ForeignKey("agents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("path", Text, primary_key=True),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False, index=False),
    Column("created_at", EpochMillis(), nullable=False),
    Column("delivered_at", EpochMillis(), nullable=True),
    Index("ix_overlap_notices_other_agent_id", "other_agent_id"),
)

# Whether merging two agents' unmerged work together would conflict, checked with
# ``git merge-tree`` as they work (``agent_id`` sorts before ``other_agent_id``).
merge_previews = Table(
    "merge_previews",
    metadata,
    Column(
        "agent_id",
        String(ID_LENGTH),
        ForeignKey("agents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "other_agent_id",
        String(ID_LENGTH),
        ForeignKey("agents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _fk("initiative_id", "initiatives.id", ondelete="CASCADE", nullable=False),
    Column("conflicts", Boolean(create_constraint=True, name="conflicts"), nullable=False),
    Column("files", JsonText(), nullable=False),
    Column("checked_at", EpochMillis(), nullable=False),
    Index("ix_merge_previews_other_agent_id", "other_agent_id"),
)

# Runs of an idle agent resumed in its own session to answer the questions waiting for
# it (docs/runner.md, "Answering"): which log session, which questions its prompt
# listed, when it ended and how, and what it left changed in its worktree.
answering_runs = Table(
    "answering_runs",
    metadata,
    _id(),
    _fk("agent_id", "agents.id", ondelete="CASCADE", nullable=False),
    Column("session_number", Integer, nullable=False),
    Column("question_ids", JsonText, nullable=False),
    Column("started_at", EpochMillis(), nullable=False),
    Column("ended_at", EpochMillis(), nullable=True),
    Column("outcome", Text, nullable=True),
    Column("left_changes", JsonText, nullable=True),
)


# The deployment's servers: each ``cw serve`` upserts its row on start and stamps
# ``heartbeat_at`` every few seconds (docs/deploy.md).
servers = Table(
    "servers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    _flag("worker", default=False),
    Column("started_at", EpochMillis(), nullable=False),
    Column("heartbeat_at", EpochMillis(), nullable=False),
    Column("lease_lost_at", EpochMillis(), nullable=True),
)

# Where dispatch placed a claimed task's agent; the server named claims the row
# (``claimed_at``) in one conditional UPDATE before starting it, and deletes it once the
# agent runs.
placements = Table(
    "placements",
    metadata,
    Column(
        "task_id",
        String(ID_LENGTH),
        ForeignKey("tasks.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("server_id", Text, nullable=False, index=True),
    Column("provider", Text, nullable=True),
    Column("placed_at", EpochMillis(), nullable=False),
    Column("claimed_at", EpochMillis(), nullable=True),
)
