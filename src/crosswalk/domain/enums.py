"""The enumerations every layer shares: stored as text, sent as their values."""

from __future__ import annotations

from enum import StrEnum


class InitiativeStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class PhaseStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"


class TaskType(StrEnum):
    AUTO = "auto"
    HUMAN_VERIFY = "checkpoint:human-verify"
    DECISION = "checkpoint:decision"
    HUMAN_ACTION = "checkpoint:human-action"


class TaskCategory(StrEnum):
    EXECUTE = "execute"
    RESEARCH = "research"
    DISCUSS = "discuss"
    PLAN = "plan"
    DETAIL = "detail"
    REFINE = "refine"
    VERIFY = "verify"
    MERGE = "merge"
    REVIEW = "review"


class TaskPriority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TaskStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BLOCKED = "blocked"


class AgentStatus(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    WAITING_FOR_INPUT = "waiting_for_input"
    STOPPED = "stopped"
    CRASHED = "crashed"


# The status sets every layer asks about. Tuples, not sets, so a query built from one
# reads the same in every process. ACTIVE and ENDED split the statuses in two.

#: An agent that can still work: it may be asked, answers, and counts as its task's.
ACTIVE_AGENT_STATUSES = (AgentStatus.IDLE, AgentStatus.RUNNING, AgentStatus.WAITING_FOR_INPUT)
#: An agent whose run is going: it has (or is believed to have) a process.
LIVE_AGENT_STATUSES = (AgentStatus.RUNNING, AgentStatus.WAITING_FOR_INPUT)
#: An agent that has stopped or crashed: it will not answer until it is resumed.
ENDED_AGENT_STATUSES = (AgentStatus.STOPPED, AgentStatus.CRASHED)
#: The statuses an agent's hooks may move it between (``waiting_for_input`` follows its
#: open questions, and the runner alone records a run's end: docs/hooks.md).
HOOK_MANAGED_AGENT_STATUSES = (AgentStatus.IDLE, AgentStatus.RUNNING)


class RunEnd(StrEnum):
    """How one run (session) of an agent's process ended."""

    SUCCEEDED = "succeeded"
    CRASHED = "crashed"
    STOPPED = "stopped"
    USAGE_LIMIT = "usage_limit"


class AgentMode(StrEnum):
    EXECUTE = "execute"
    DISCUSS = "discuss"
    PLAN = "plan"
    DETAIL = "detail"
    REFINE = "refine"


class ProposalTargetType(StrEnum):
    PAGE = "page"
    PHASE = "phase"
    TASK = "task"


class ProposalStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class ParticipantType(StrEnum):
    AGENT = "agent"
    USER = "user"


class MessageType(StrEnum):
    QUESTION = "question"
    INFO = "info"
    ERROR = "error"
    RESPONSE = "response"


class MessageStatus(StrEnum):
    PENDING = "pending"
    READ = "read"
    RESPONDED = "responded"


class ConversationStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    # The agent asked stopped, crashed or was deleted before answering.
    ABANDONED = "abandoned"


class TargetKind(StrEnum):
    """How a question named its target: an agent (by id or name), a task, a phase, a
    file (whoever changed it). ``crosswalk.target_kinds`` lists them with their texts."""

    AGENT = "agent"
    TASK = "task"
    PHASE = "phase"
    FILE = "file"


class DispatchStatus(StrEnum):
    """Whether the server hands an initiative's ready tasks to agents by itself."""

    OFF = "off"
    RUNNING = "running"
    PAUSED = "paused"


#: Tasks a person completes (dispatch asks them and never spawns an agent for these).
CHECKPOINT_TASK_TYPES = (TaskType.HUMAN_VERIFY, TaskType.DECISION, TaskType.HUMAN_ACTION)
