"""What each dashboard page shows, as plain JSON-ready dicts (the pages' JSON twins).

Reads go through the repositories and services the API uses; rows are turned into
API objects by ``to_api``, which leaves out every secret (agent token hashes, account
credentials and config), so a template can never render one. Times stay ISO-8601
strings, as in the API; templates show them as "3 min ago" with the exact time on hover.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from crosswalk.domain.accounts import is_exhausted
from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    LIVE_AGENT_STATUSES,
    ConversationStatus,
    ParticipantType,
    TaskStatus,
)
from crosswalk.domain.rows import Agent, Conversation, Message, Task
from crosswalk.runner import delivery_for
from crosswalk.server.context import Services
from crosswalk.server.serialize import to_api
from crosswalk.server.web import graph, logs

TASK_STATES = [status.value for status in TaskStatus]
RECENT_CONVERSATIONS = 10
CONVERSATION_PAGE = 200
#: The agent page shows the newest log entries only (older ones stay in ``cw logs``);
#: a session's divider counts as one.
LOG_ENTRIES_SHOWN = 400
#: The agent page shows the newest messages between it and the person.
MESSAGES_SHOWN = 50
#: How many of them it reads at most, each way (more than anyone writes to one agent).
MESSAGES_READ = 1000


def _now() -> datetime:
    return datetime.now(UTC)


class _Names:
    """Names of agents and tasks by id, each looked up once per page."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._agents: dict[str, Agent | None] = {}
        self._tasks: dict[str, Task | None] = {}
        self._phases: dict[str, str | None] = {}

    def agent(self, agent_id: str | None) -> Agent | None:
        if agent_id is None:
            return None
        if agent_id not in self._agents:
            self._agents[agent_id] = self._services.repos.agents.find_by_id(agent_id)
        return self._agents[agent_id]

    def agent_name(self, agent_id: str | None) -> str | None:
        agent = self.agent(agent_id)
        return agent.name if agent is not None else None

    def task(self, task_id: str | None) -> Task | None:
        if task_id is None:
            return None
        if task_id not in self._tasks:
            self._tasks[task_id] = self._services.repos.tasks.find_by_id(task_id)
        return self._tasks[task_id]

    def task_name(self, task_id: str | None) -> str | None:
        task = self.task(task_id)
        return task.name if task is not None else None

    def phase_name(self, phase_id: str | None) -> str | None:
        if phase_id is None:
            return None
        if phase_id not in self._phases:
            phase = self._services.repos.phases.find_by_id(phase_id)
            self._phases[phase_id] = phase.name if phase is not None else None
        return self._phases[phase_id]


# --- overview ------------------------------------------------------------------------


def overview(services: Services, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    repos = services.repos
    names = _Names(services)
    initiatives = []
    for initiative in repos.initiatives.find_all():
        counts = Counter(
            task.status.value for task in repos.tasks.find_by_initiative_id(initiative.id)
        )
        total = sum(counts.values())
        initiatives.append(
            {
                **to_api(initiative),
                "tasks": {state: counts.get(state, 0) for state in TASK_STATES},
                "taskCount": total,
                "percentDone": round(100 * counts.get("completed", 0) / total) if total else 0,
            }
        )
    running = [
        agent_summary(services, agent, names, now)
        for agent in repos.agents.find_all()
        if agent.status in LIVE_AGENT_STATUSES
    ]
    waiting = services.human_questions.inbox()
    recent = repos.conversations.list_page(limit=RECENT_CONVERSATIONS).items
    return {
        "initiatives": initiatives,
        "runningAgents": running,
        "openQuestions": {
            "count": len(waiting),
            "oldestAskedAt": to_api(waiting[0])["createdAt"] if waiting else None,
        },
        "recentConversations": [conversation_view(c, names) for c in recent],
    }


# --- agents --------------------------------------------------------------------------


def agent_summary(services: Services, agent: Agent, names: _Names, now: datetime) -> dict[str, Any]:
    """An agent's row on every page: who, doing what, for how long, at what cost (cost,
    turns and a finished run's duration come from its result, as Claude Code reports
    them: ``total_cost_usd``, ``num_turns``, ``duration_ms``)."""
    result = agent.result if isinstance(agent.result, dict) else {}
    account = services.repos.accounts.find_by_id(agent.account_id) if agent.account_id else None
    end = now if agent.status in ACTIVE_AGENT_STATUSES else agent.updated_at
    running = max(int((end - agent.created_at).total_seconds()), 0)
    if agent.status not in ACTIVE_AGENT_STATUSES and isinstance(result.get("duration_ms"), int):
        running = result["duration_ms"] // 1000  # the finished run's own measure
    cost = result.get("total_cost_usd")
    turns = result.get("num_turns")
    return {
        **to_api(agent),
        "taskName": names.task_name(agent.task_id),
        "accountEmail": account.email if account is not None else None,
        "sessionNumber": services.repos.log_chunks.get_session_count(agent.id),
        "runningSeconds": running,
        "costUsd": cost if isinstance(cost, int | float) else None,
        "turns": turns if isinstance(turns, int) else None,
    }


def agents(services: Services, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    names = _Names(services)
    rows = [agent_summary(services, a, names, now) for a in services.repos.agents.find_all()]
    rows.sort(key=lambda row: (row["status"] not in ACTIVE_AGENT_STATUSES, row["name"]))
    return {"agents": rows}


def agent(services: Services, id_or_name: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    repos = services.repos
    found = services.agents.resolve(id_or_name)
    names = _Names(services)
    chunks = repos.log_chunks.find_by_agent_id(found.id)
    entries = logs.render_sessions((chunk.session_number, chunk.content) for chunk in chunks)
    shown = logs.newest(entries, LOG_ENTRIES_SHOWN)
    conversations = repos.conversations.list_page(agent_id=found.id, limit=50).items
    return {
        "agent": agent_summary(services, found, names, now),
        "tellDelivery": delivery_for(found).value,
        "messages": [to_api(m) for m in _with_the_person(services, found)],
        "log": [{"kind": e.kind, "title": e.title, "text": e.text} for e in shown],
        "logEntriesHidden": max(len(entries) - LOG_ENTRIES_SHOWN, 0),
        "conversations": [conversation_view(c, names) for c in conversations],
    }


def _with_the_person(services: Services, agent: Agent) -> list[Message]:
    """The newest messages between the agent and the person, oldest first: what the
    person told it (``cw tell``) and the replies it got, what it sent the person."""
    user = ParticipantType.USER
    messages = services.repos.messages
    told = messages.list_page(recipient_id=agent.id, sender_type=user, limit=MESSAGES_READ)
    sent = messages.list_page(sender_id=agent.id, recipient_type=user, limit=MESSAGES_READ)
    both = sorted([*told.items, *sent.items], key=lambda m: (m.created_at, m.id))
    return both[-MESSAGES_SHOWN:]


# --- conversations and the inbox ----------------------------------------------------


def conversation_view(conversation: Conversation, names: _Names) -> dict[str, Any]:
    """A conversation with its agents' and task's names, and what it was about: the
    task and phase recorded when it was asked (by agent, task or phase)."""
    return {
        **to_api(conversation),
        "fromAgentName": names.agent_name(conversation.from_agent_id),
        "toAgentName": names.agent_name(conversation.to_agent_id),
        "taskName": names.task_name(conversation.task_id),
        "phaseName": names.phase_name(conversation.phase_id),
    }


def conversations(
    services: Services,
    *,
    agent: str | None = None,
    task: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Every conversation, newest first, filtered by agent (id or name), task, status."""
    repos = services.repos
    names = _Names(services)
    agent_id = None
    if agent:
        found = services.agents.find(agent)
        agent_id = found.id if found is not None else agent
    wanted = ConversationStatus(status) if status in _CONVERSATION_STATES else None
    page = repos.conversations.list_page(
        agent_id=agent_id, task_id=task or None, status=wanted, limit=CONVERSATION_PAGE
    )
    return {
        "filters": {"agent": agent or "", "task": task or "", "status": wanted or ""},
        "conversations": [conversation_view(c, names) for c in page.items],
        "more": page.next_cursor is not None,
        "agents": sorted(a.name for a in repos.agents.find_all()),
        "tasks": [{"id": t.id, "name": t.name} for t in repos.tasks.find_all()],
        "statuses": sorted(_CONVERSATION_STATES),
    }


_CONVERSATION_STATES = {status.value for status in ConversationStatus}


def inbox(services: Services) -> dict[str, Any]:
    """Questions waiting for the person, oldest first, with who asks."""
    names = _Names(services)
    items = []
    for message in services.human_questions.inbox():
        asker = names.agent(message.sender_id)
        items.append(
            {
                **to_api(message),
                "fromAgentName": asker.name if asker is not None else None,
                "taskName": names.task_name(asker.task_id) if asker is not None else None,
            }
        )
    return {"messages": items}


# --- accounts -------------------------------------------------------------------------


def accounts(services: Services, now: datetime | None = None) -> dict[str, Any]:
    """Accounts and their exhaustion; ``to_api`` withholds credentials and config."""
    now = now or _now()
    rows = []
    for account in services.repos.accounts.find_all():
        rows.append({**to_api(account), "exhaustedNow": is_exhausted(account, now)})
    return {"accounts": rows}


# --- an initiative -------------------------------------------------------------------


def initiative(services: Services, id: str) -> dict[str, Any]:
    """Phases and tasks, the task graph laid out, and each task's agent and approval."""
    repos = services.repos
    found = repos.initiatives.get(id)
    names = _Names(services)
    phases = repos.phases.find_by_initiative_id(found.id)
    phase_deps = {p.id: [d.id for d in repos.phases.get_dependencies(p.id)] for p in phases}
    phase_order = {p.id: index for index, p in enumerate(phases)}
    tasks = sorted(
        repos.tasks.find_by_initiative_id(found.id),
        key=lambda t: (phase_order.get(t.phase_id or "", len(phases)), t.order, t.created_at),
    )
    task_deps = {t.id: [d.id for d in repos.tasks.get_dependencies(t.id)] for t in tasks}
    tasks_of_phase: dict[str, list[str]] = {}
    for task in tasks:
        if task.phase_id is not None:
            tasks_of_phase.setdefault(task.phase_id, []).append(task.id)
    waits_for = {
        task.id: task_deps[task.id]
        + [
            earlier
            for dep_phase in phase_deps.get(task.phase_id or "", [])
            for earlier in tasks_of_phase.get(dep_phase, [])
        ]
        for task in tasks
    }
    drawn = [(task_id, dep) for task_id, deps in task_deps.items() for dep in deps]
    placed = graph.layout([t.id for t in tasks], waits_for, drawn)
    phase_names = {p.id: p.name for p in phases}
    task_rows = []
    for task in tasks:
        working = repos.agents.find_by_task_id(task.id)
        node = placed.nodes[task.id]
        task_rows.append(
            {
                **to_api(task),
                "phaseName": phase_names.get(task.phase_id or ""),
                "dependsOn": task_deps[task.id],
                "dependsOnNames": [names.task_name(dep) for dep in task_deps[task.id]],
                "agents": [{"id": a.id, "name": a.name, "status": a.status.value} for a in working],
                "needsApproval": repos.tasks.requires_approval(task.id),
                "awaitingApproval": task.status is TaskStatus.PENDING_APPROVAL,
                "x": node.x,
                "y": node.y,
            }
        )
    return {
        "initiative": to_api(found),
        "phases": [
            {
                **to_api(p),
                "dependsOn": phase_deps[p.id],
                "dependsOnNames": [phase_names.get(d, d) for d in phase_deps[p.id]],
            }
            for p in phases
        ],
        "tasks": task_rows,
        "graph": {
            "width": placed.width,
            "height": placed.height,
            "nodeWidth": graph.NODE_WIDTH,
            "nodeHeight": graph.NODE_HEIGHT,
            "edges": [{"from": e.source, "to": e.target, "path": e.path} for e in placed.edges],
        },
    }
