"""Which change events each dashboard page shows, so its live stream tells it of those only.

An event names the rows it touched (``topics``: ``task:<id>``, ``agent:<id>``, ``logs:<agent
id>``, ``conversationOf:<agent id>``, ``inbox`` ...). A page's :class:`Watch` says which
kinds of rows it shows all of (the agents page: every agent), and which it shows some of:
those in its *scope*, the ids it shows, read in a fixed number of queries (an initiative
page: its tasks, phases, the agents on them, their runs, who changed its files). Every
page shows the header's count of open questions (``inbox``).

A row may join a page's scope by the change itself (a task created in the initiative, an
agent put on one of its tasks, a task now waiting for approval): such an event about a row
outside the scope re-reads the scope, and counts if the row is in it now. An agent's
session number is on several pages, so a log chunk counts there when it opens a new
session of an agent the page shows (the first session number above the one read when the
stream began), and not otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.events import (
    Action,
    AgentStatusChanged,
    EntityChanged,
    Event,
    LogChunkAppended,
    PhaseStatusChanged,
    QuestionAbandoned,
    QuestionAnswered,
    QuestionAsked,
    QuestionWithdrawn,
    TaskStatusChanged,
    UserQuestionAsked,
    UserQuestionReplied,
    UserQuestionWithdrawn,
)
from crosswalk.server.context import Services
from crosswalk.server.web import views

#: Every page shows the header's count of questions waiting for the person.
INBOX = "inbox"
#: The conversations an agent asked or was asked.
CONVERSATIONS_OF = "conversationOf"
LOGS = "logs"


@dataclass(frozen=True, slots=True)
class Topic:
    """A row an event is about: ``kind`` (an entity name, ``logs``, ``inbox``...), its id,
    and whether the change may have brought the row into a page's scope (a creation, an
    update that may have moved it, a task now waiting for approval)."""

    kind: str
    id: str | None = None
    joins: bool = False

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


def key(kind: str, id: str | None) -> str:
    return f"{kind}:{id}"


def topics(event: Event) -> list[Topic]:
    """The rows ``event`` is about."""
    match event:
        case EntityChanged(entity=entity, id=id, action=action):
            return [Topic(entity, id, joins=action is not Action.DELETED)]
        case AgentStatusChanged(agent_id=agent_id):
            return [Topic("agent", agent_id)]
        case TaskStatusChanged(task_id=task_id, status=status):
            return [Topic("task", task_id, joins=status is TaskStatus.PENDING_APPROVAL)]
        case PhaseStatusChanged(phase_id=phase_id):
            return [Topic("phase", phase_id)]
        case LogChunkAppended(agent_id=agent_id):
            return [Topic(LOGS, agent_id)]
        case (
            QuestionAsked(conversation_id=id, from_agent_id=asker, to_agent_id=asked)
            | QuestionAnswered(conversation_id=id, from_agent_id=asker, to_agent_id=asked)
            | QuestionWithdrawn(conversation_id=id, from_agent_id=asker, to_agent_id=asked)
            | QuestionAbandoned(conversation_id=id, from_agent_id=asker, to_agent_id=asked)
        ):
            return [
                Topic("conversation", id),
                Topic(CONVERSATIONS_OF, asked),
                *([Topic(CONVERSATIONS_OF, asker)] if asker is not None else []),
            ]
        case UserQuestionAsked() | UserQuestionReplied() | UserQuestionWithdrawn():
            return [Topic(INBOX)]
    return [Topic(type(event).__name__)]  # a kind no page names: shown by none


@dataclass(slots=True)
class Scope:
    """What one page shows of the rows it shows some of: ``keys`` (``kind:id``), and the
    session number it last showed of each agent (read when the stream begins, then
    counted up by the log chunks it is told of)."""

    keys: set[str] = field(default_factory=set)
    sessions: dict[str, int] = field(default_factory=dict)


ScopeReader = Callable[[Services], set[str]]
SessionReader = Callable[[Services], dict[str, int]]


class Verdict(Enum):
    SHOWN = "shown"
    NOT_SHOWN = "not shown"
    MAYBE = "maybe"  # about a row that may just have joined the scope: read it again


@dataclass(frozen=True, slots=True)
class Watch:
    """What one page shows: every row of ``kinds``; the rows of ``scoped`` kinds whose
    keys ``read_scope`` reads; with ``read_sessions``, the session numbers of the agents
    it shows (read once per stream: the log is the largest table)."""

    kinds: frozenset[str] = frozenset()
    scoped: frozenset[str] = frozenset()
    read_scope: ScopeReader | None = None
    read_sessions: SessionReader | None = None

    def verdict(self, event: Event, scope: Scope) -> Verdict:
        found = Verdict.NOT_SHOWN
        for topic in topics(event):
            if topic.kind == INBOX or topic.kind in self.kinds:
                return Verdict.SHOWN
            if topic.kind in self.scoped:
                if topic.key in scope.keys:
                    return Verdict.SHOWN
                if topic.joins:
                    found = Verdict.MAYBE
            if isinstance(event, LogChunkAppended) and self._opens_session(event, scope):
                return Verdict.SHOWN
        return found

    def _opens_session(self, chunk: LogChunkAppended, scope: Scope) -> bool:
        if self.read_sessions is None:
            return False
        if "agent" not in self.kinds and key("agent", chunk.agent_id) not in scope.keys:
            return False  # not an agent this page shows
        if chunk.session_number <= scope.sessions.get(chunk.agent_id, 0):
            return False
        scope.sessions[chunk.agent_id] = chunk.session_number
        return True

    def may_move(self, events: Iterable[Event]) -> bool:
        """Whether ``events`` may have changed which rows the scope holds (a row of a
        scoped kind created, updated or deleted): then it is read again."""
        return self.read_scope is not None and any(
            isinstance(event, EntityChanged) and event.entity in self.scoped for event in events
        )


# --- the pages ------------------------------------------------------------------------

#: What the rows of agents show on the overview and agents pages: the agents, their runs'
#: cost, their accounts' emails, their session numbers (and a log deleted).
_AGENT_ROWS = frozenset({"agent", "agentRun", "account", "agentLog"})


def overview() -> Watch:
    """Initiatives with their tasks by state, running agents, open answering runs, open
    questions and recent conversations."""
    return Watch(
        kinds=_AGENT_ROWS | {"initiative", "task", "answeringRun", "conversation"},
        read_sessions=_every_agents_session,
    )


def agents() -> Watch:
    """Every agent's row, naming its task."""
    return Watch(
        kinds=_AGENT_ROWS,
        scoped=frozenset({"task"}),
        read_scope=_agents_tasks,
        read_sessions=_every_agents_session,
    )


def agent(id_or_name: str) -> Watch:
    """One agent: its row, runs, answering runs, messages with the person, its log, its
    conversations (naming the other agents)."""
    scoped = {"agent", LOGS, CONVERSATIONS_OF, "task", "account", "agentRun", "answeringRun"}
    return Watch(
        scoped=frozenset({*scoped, "message"}),
        read_scope=lambda services: _agent_scope(services, id_or_name),
    )


def initiative(id: str) -> Watch:
    """One initiative: its phases, tasks and their dependencies, the agents on them,
    runs, pushes, and who changed its files."""
    return Watch(
        kinds=frozenset({"taskDependency", "phaseDependency", "project"}),
        scoped=frozenset({"initiative", "phase", "task", "agent", "agentRun", "fileChanges"}),
        read_scope=lambda services: _initiative_scope(services, id),
    )


def task(id: str) -> Watch:
    """One task: its initiative and phase, its agents, their runs and session numbers,
    what the person told them."""
    return Watch(
        scoped=frozenset({"task", "initiative", "phase", "agent", "agentRun", "message"}),
        read_scope=lambda services: _task_scope(services, id),
        read_sessions=lambda services: _task_sessions(services, id),
    )


def inbox() -> Watch:
    """Questions waiting for the person (who asks, about which task) and the tasks
    waiting for approval."""
    return Watch(scoped=frozenset({"task", "agent"}), read_scope=_inbox_scope)


def conversations() -> Watch:
    """Conversations between agents, and every agent and task by name (the filters)."""
    return Watch(kinds=frozenset({"conversation", "agent", "task"}))


def accounts() -> Watch:
    return Watch(kinds=frozenset({"account"}))


# --- the scopes (each a fixed number of queries) --------------------------------------


def _every_agents_session(services: Services) -> dict[str, int]:
    ids = [agent.id for agent in services.repos.agents.find_all()]
    return services.repos.log_chunks.session_counts(ids)


def _task_sessions(services: Services, id: str) -> dict[str, int]:
    ids = [agent.id for agent in services.repos.agents.find_by_task_id(id)]
    return services.repos.log_chunks.session_counts(ids)


def _agents_tasks(services: Services) -> set[str]:
    return {key("task", a.task_id) for a in services.repos.agents.find_all() if a.task_id}


def _agent_scope(services: Services, id_or_name: str) -> set[str]:
    found = services.agents.find(id_or_name)
    if found is None:
        return {key("agent", id_or_name)}
    repos = services.repos
    conversations = repos.conversations.list_page(agent_id=found.id, limit=50).items
    others = {id for c in conversations for id in (c.from_agent_id, c.to_agent_id) if id}
    runs = repos.agent_runs.find(agent_id=found.id)
    answering = repos.answering_runs.find_by_agent(found.id, limit=views.ANSWERING_RUNS_SHOWN)
    messages = views.with_the_person(services, found)
    return {
        *(key(kind, found.id) for kind in ("agent", LOGS, CONVERSATIONS_OF)),
        key("task", found.task_id),
        key("account", found.account_id),
        *(key("agent", id) for id in others),
        *(key("agentRun", run.id) for run in runs),
        *(key("answeringRun", run.id) for run in answering),
        *(key("message", message.id) for message in messages),
    }


def _initiative_scope(services: Services, id: str) -> set[str]:
    repos = services.repos
    phases = repos.phases.find_by_initiative_id(id)
    tasks = repos.tasks.find_by_initiative_id(id)
    working = repos.agents.find_by_task_ids([task.id for task in tasks])
    runs = repos.agent_runs.find(initiative_id=id)
    changed = {a for overlap in repos.ownership.overlaps(id) for a in overlap.agent_ids}
    for preview in repos.ownership.previews(id):
        changed |= {preview.agent_id, preview.other_agent_id}
    agent_ids = changed | {agent.id for agent in working}
    return {
        key("initiative", id),
        *(key("phase", phase.id) for phase in phases),
        *(key("task", task.id) for task in tasks),
        *(key(kind, agent_id) for agent_id in agent_ids for kind in ("agent", "fileChanges")),
        *(key("agentRun", run.id) for run in runs),
    }


def _task_scope(services: Services, id: str) -> set[str]:
    repos = services.repos
    found = repos.tasks.find_by_id(id)
    if found is None:
        return {key("task", id)}
    working = repos.agents.find_by_task_id(found.id)
    ids = [agent.id for agent in working]
    runs = repos.agent_runs.find(task_id=found.id)
    told = repos.messages.find_told(ids, limit=views.COMMENTS_READ)
    return {
        key("task", found.id),
        key("initiative", found.initiative_id),
        key("phase", found.phase_id),
        *(key("agent", agent_id) for agent_id in ids),
        *(key("agentRun", run.id) for run in runs),
        *(key("message", message.id) for message in told),
    }


def _inbox_scope(services: Services) -> set[str]:
    waiting = services.human_questions.inbox()
    askers = {m.sender_id for m in waiting if m.sender_id}
    asker_tasks = {a.task_id for a in services.repos.agents.find_by_ids(askers) if a.task_id}
    awaiting = services.repos.tasks.find_pending_approval(None)
    return {
        *(key("agent", id) for id in askers),
        *(key("task", id) for id in asker_tasks | {m.task_id for m in waiting if m.task_id}),
        *(key("task", task.id) for task in awaiting),
    }
