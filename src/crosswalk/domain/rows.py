"""Typed rows: what the repositories return and take, and what services pass around.

One frozen dataclass per table (the row as read), a ``New*`` dataclass for
inserts (defaults as in the schema; id and timestamps are the repository's job)
and a ``*Update`` TypedDict for partial updates. Field names are the schema's
column names, so rows map one to one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypedDict, TypeVar

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

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# What a delete took along: table name -> rows removed by ON DELETE CASCADE, and
# "<table>Detached" -> rows whose reference was nulled by ON DELETE SET NULL.
Removal = dict[str, int]

# --- initiatives -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Initiative:
    id: str
    name: str
    status: InitiativeStatus
    merge_requires_approval: bool
    branch: str | None
    dispatch_status: DispatchStatus
    dispatch_max_agents: int | None
    dispatch_provider: str | None
    auto_push: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewInitiative:
    name: str
    status: InitiativeStatus = InitiativeStatus.ACTIVE
    merge_requires_approval: bool = True
    branch: str | None = None  # None: the repository derives `cw/<slug>`
    auto_push: bool = False  # push the branch to the projects after every merge


class InitiativeUpdate(TypedDict, total=False):
    name: str
    status: InitiativeStatus
    merge_requires_approval: bool
    branch: str | None
    dispatch_status: DispatchStatus
    dispatch_max_agents: int | None
    dispatch_provider: str | None
    auto_push: bool


# --- phases --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    initiative_id: str
    name: str
    content: Any
    status: PhaseStatus
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewPhase:
    initiative_id: str
    name: str
    content: Any = None
    status: PhaseStatus = PhaseStatus.PENDING


class PhaseUpdate(TypedDict, total=False):
    name: str
    content: Any
    status: PhaseStatus


@dataclass(frozen=True, slots=True)
class PhaseDependency:
    id: str
    phase_id: str
    depends_on_phase_id: str
    created_at: datetime


# --- tasks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Task:
    id: str
    phase_id: str | None
    initiative_id: str | None
    parent_task_id: str | None
    name: str
    description: str | None
    type: TaskType
    category: TaskCategory
    priority: TaskPriority
    status: TaskStatus
    requires_approval: bool | None
    order: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewTask:
    name: str
    phase_id: str | None = None
    initiative_id: str | None = None  # None with a phase: the phase's initiative
    parent_task_id: str | None = None
    description: str | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    status: TaskStatus = TaskStatus.PENDING
    requires_approval: bool | None = None
    order: int = 0


class TaskUpdate(TypedDict, total=False):
    name: str
    phase_id: str | None
    parent_task_id: str | None
    description: str | None
    type: TaskType
    category: TaskCategory
    priority: TaskPriority
    status: TaskStatus
    requires_approval: bool | None
    order: int


@dataclass(frozen=True, slots=True)
class TaskDependency:
    id: str
    task_id: str
    depends_on_task_id: str
    created_at: datetime


# --- agents --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    task_id: str | None
    initiative_id: str | None
    session_id: str | None
    worktree_id: str
    provider: str
    account_id: str | None
    status: AgentStatus
    mode: AgentMode
    pid: int | None
    process_started_at: int | None
    exit_code: int | None
    output_file_path: str | None
    result: Any
    pending_questions: Any
    user_dismissed_at: datetime | None
    token_hash: str | None
    created_at: datetime
    updated_at: datetime
    server_id: str | None = None  # the server running the agent's process, if any


@dataclass(frozen=True, slots=True)
class LocatedAgent:
    """An agent and where its task sits (None and None when it has no task, or the
    task is gone): what a question addressed to the agent is filed under."""

    agent: Agent
    task_phase_id: str | None
    task_initiative_id: str | None


@dataclass(frozen=True, slots=True)
class Workers:
    """The active agents on one task or in one phase, most recently updated first, with
    that task's phase (or the phase itself) and its initiative."""

    phase_id: str | None
    initiative_id: str | None
    agents: list[Agent]


@dataclass(frozen=True, slots=True)
class NewAgent:
    worktree_id: str
    name: str | None = None  # None: a fresh adjective-animal alias
    task_id: str | None = None
    initiative_id: str | None = None
    session_id: str | None = None
    provider: str = "claude"
    account_id: str | None = None
    status: AgentStatus = AgentStatus.IDLE
    mode: AgentMode = AgentMode.EXECUTE
    pid: int | None = None
    output_file_path: str | None = None
    token_hash: str | None = None
    server_id: str | None = None


class AgentUpdate(TypedDict, total=False):
    name: str
    task_id: str | None
    initiative_id: str | None
    session_id: str | None
    worktree_id: str
    provider: str
    account_id: str | None
    status: AgentStatus
    mode: AgentMode
    pid: int | None
    process_started_at: int | None
    exit_code: int | None
    output_file_path: str | None
    result: Any
    pending_questions: Any
    user_dismissed_at: datetime | None
    token_hash: str | None
    server_id: str | None


# --- agent runs ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentRun:
    """One run (session) of an agent's process and what it cost, as its CLI reported it.

    The task and initiative are the agent's when the run started, so totals per task and
    per initiative hold after the agent is deleted or moved."""

    id: str
    agent_id: str
    agent_name: str
    task_id: str | None
    initiative_id: str | None
    session_number: int
    provider: str
    started_at: datetime
    ended_at: datetime | None  # None while it runs
    outcome: RunEnd | None
    cost_usd: float | None  # None: the CLI reported no cost (Codex)
    turns: int | None
    duration_ms: int | None  # the CLI's own measure, else the server's
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_tokens: int | None
    cache_read_tokens: int | None


@dataclass(frozen=True, slots=True)
class NewAgentRun:
    agent_id: str
    agent_name: str
    session_number: int
    provider: str
    started_at: datetime
    task_id: str | None = None
    initiative_id: str | None = None


class AgentRunEnd(TypedDict, total=False):
    ended_at: datetime
    outcome: RunEnd
    cost_usd: float | None
    turns: int | None
    duration_ms: int | None
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_tokens: int | None
    cache_read_tokens: int | None


# --- accounts ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    provider: str
    config_json: str | None
    credentials: str | None
    is_exhausted: bool
    exhausted_until: datetime | None
    last_used_at: datetime | None
    sort_order: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewAccount:
    email: str
    provider: str = "claude"
    config_json: str | None = None
    credentials: str | None = None
    sort_order: int = 0


class AccountUpdate(TypedDict, total=False):
    email: str
    provider: str
    config_json: str | None
    credentials: str | None
    is_exhausted: bool
    exhausted_until: datetime | None
    last_used_at: datetime | None
    sort_order: int


# --- proposals -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    agent_id: str
    initiative_id: str
    target_type: ProposalTargetType
    target_id: str | None
    title: str
    summary: str | None
    content: str | None
    metadata: Any
    status: ProposalStatus
    sort_order: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewProposal:
    agent_id: str
    initiative_id: str
    target_type: ProposalTargetType
    title: str
    target_id: str | None = None
    summary: str | None = None
    content: str | None = None
    metadata: Any = None
    status: ProposalStatus = ProposalStatus.PENDING
    sort_order: int = 0


class ProposalUpdate(TypedDict, total=False):
    target_type: ProposalTargetType
    target_id: str | None
    title: str
    summary: str | None
    content: str | None
    metadata: Any
    status: ProposalStatus
    sort_order: int


# --- pages ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    id: str
    initiative_id: str
    parent_page_id: str | None
    title: str
    content: Any
    sort_order: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewPage:
    initiative_id: str
    title: str
    parent_page_id: str | None = None
    content: Any = None
    sort_order: int = 0


class PageUpdate(TypedDict, total=False):
    parent_page_id: str | None
    title: str
    content: Any
    sort_order: int


# --- projects ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    url: str
    default_branch: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewProject:
    name: str
    url: str
    default_branch: str = "main"


class ProjectUpdate(TypedDict, total=False):
    name: str
    url: str
    default_branch: str


@dataclass(frozen=True, slots=True)
class ProjectPush:
    """A project of an initiative and the last push of the initiative branch to it."""

    initiative_id: str
    project_id: str
    project_name: str
    url: str
    pushed_commit: str | None  # None: never pushed
    pushed_at: datetime | None
    push_error: str | None  # why the last push failed; None after one that did not


class PushUpdate(TypedDict, total=False):
    pushed_commit: str | None
    pushed_at: datetime | None
    push_error: str | None


@dataclass(frozen=True, slots=True)
class InitiativeProjectsChange:
    """What ``setInitiativeProjects`` did: the diff, and the resulting set."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    project_ids: tuple[str, ...]


# --- messages ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    sender_type: ParticipantType
    sender_id: str | None
    recipient_type: ParticipantType
    recipient_id: str | None
    type: MessageType
    content: str
    requires_response: bool
    status: MessageStatus
    parent_message_id: str | None
    task_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    sender_type: ParticipantType
    recipient_type: ParticipantType
    content: str
    sender_id: str | None = None
    recipient_id: str | None = None
    type: MessageType = MessageType.INFO
    requires_response: bool = False
    status: MessageStatus = MessageStatus.PENDING
    parent_message_id: str | None = None
    task_id: str | None = None  # the task the message is about
    id: str | None = None  # a client-chosen id makes a retried send idempotent


class MessageUpdate(TypedDict, total=False):
    content: str
    type: MessageType
    requires_response: bool
    status: MessageStatus


# --- agent log chunks ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogChunk:
    id: str
    agent_id: str
    agent_name: str
    session_number: int
    content: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewLogChunk:
    agent_id: str
    agent_name: str
    content: str
    session_number: int = 1


# --- conversations -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    from_agent_id: str | None  # None: the person asked
    to_agent_id: str
    initiative_id: str | None
    phase_id: str | None
    task_id: str | None
    question: str
    answer: str | None
    status: ConversationStatus
    abandoned_reason: str | None
    target_kind: TargetKind | None  # how the asker named the target (None: before 0006)
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NewConversation:
    from_agent_id: str | None  # None: the person asks
    to_agent_id: str
    question: str
    initiative_id: str | None = None
    phase_id: str | None = None
    task_id: str | None = None
    id: str | None = None  # a client-chosen id makes the ask idempotent
    target_kind: TargetKind | None = None


# --- ownership: which agent's work changed which file ----------------------------

#: Line ranges of a change, each ``(first, last)``, 1-based; empty: the whole file.
LineRanges = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class PathChange:
    """One file a piece of work changed, with the lines it covers in the new version."""

    path: str
    lines: LineRanges = ()


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file an agent's work changed, as the ownership index keeps it: ``merged`` False
    while the work is on the agent's branch or in its worktree, True once it landed."""

    agent_id: str
    merged: bool
    path: str
    initiative_id: str
    task_id: str | None
    lines: LineRanges
    changed_at: datetime  # when this change was last seen to move (merged: when it landed)


@dataclass(frozen=True, slots=True)
class FileOwner:
    """An agent whose work changed a file, with its change and where its task sits."""

    agent: Agent
    change: FileChange
    task_name: str | None
    phase_id: str | None


@dataclass(frozen=True, slots=True)
class Overlap:
    """A file the unmerged work of several agents changed, the most recent first."""

    path: str
    agent_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OverlapNotice:
    """``agent_id`` is to be told, once, that ``other_agent_id``'s unmerged work changed
    ``path`` too."""

    agent_id: str
    other_agent_id: str
    path: str
    initiative_id: str
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class MergePreview:
    """Whether merging two agents' work together would conflict (``git merge-tree``),
    checked before either is merged; ``agent_id`` sorts before ``other_agent_id``."""

    agent_id: str
    other_agent_id: str
    initiative_id: str
    conflicts: bool
    files: tuple[str, ...]  # the conflicting files
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class AnsweringRun:
    """A run of an idle agent, resumed in its session only to answer questions."""

    id: str
    agent_id: str
    session_number: int  # the log session of this run
    question_ids: list[str]  # the questions its prompt listed
    started_at: datetime
    ended_at: datetime | None  # None: it runs
    outcome: str | None  # how it ended, in words
    left_changes: list[str] | None  # paths it changed in the worktree, left uncommitted


@dataclass(frozen=True, slots=True)
class NewAnsweringRun:
    agent_id: str
    session_number: int
    question_ids: list[str]


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    """One page of a keyset-paginated list: ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None = field(default=None)


@dataclass(frozen=True, slots=True)
class Server:
    """A ``cw serve`` process of the deployment, as it last reported itself."""

    id: str  # its CW_SERVER_ID
    url: str  # where its agents reach it
    capacity: int  # agents it may run at once (CW_MAX_AGENTS)
    worker: bool  # runs agents only: no dispatch loop, no dashboard
    started_at: datetime
    heartbeat_at: datetime
    #: When another server found its heartbeat older than the lease and handed its
    #: running agents' tasks back to dispatch; None while it holds its lease.
    lease_lost_at: datetime | None


@dataclass(frozen=True, slots=True)
class ServerLoad:
    """A server and the agents it carries: live agents it runs plus agents placed on
    it that it has not started yet."""

    server: Server
    load: int


@dataclass(frozen=True, slots=True)
class Placement:
    """Dispatch placed the agent of a claimed task on a server; that server starts it."""

    task_id: str
    server_id: str
    provider: str | None
    placed_at: datetime
    claimed_at: datetime | None  # None: the server has not taken it yet
