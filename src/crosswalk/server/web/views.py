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

from crosswalk.dispatch.status import push_to_api
from crosswalk.domain.accounts import is_exhausted
from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    LIVE_AGENT_STATUSES,
    ConversationStatus,
    ParticipantType,
    TaskStatus,
)
from crosswalk.domain.rows import Agent, Conversation, Message, Task
from crosswalk.domain.timestamps import to_iso
from crosswalk.domain.usage import UsageTotals, total, totals_by
from crosswalk.runner import delivery_for
from crosswalk.server.context import Services
from crosswalk.server.serialize import to_api
from crosswalk.server.task_diff import task_diff_to_api
from crosswalk.server.web import graph, logs

TASK_STATES = [status.value for status in TaskStatus]
RECENT_CONVERSATIONS = 10
CONVERSATION_PAGE = 200
#: The agent page shows the newest log entries only (older ones stay in ``cw logs``);
#: a session's divider counts as one.
LOG_ENTRIES_SHOWN = 400
#: A file whose patch is longer than this many lines starts collapsed on the task page.
LONG_FILE_LINES = 200
#: The agent page shows the newest messages between it and the person.
MESSAGES_SHOWN = 50
#: How many of them it reads at most, each way (more than anyone writes to one agent).
MESSAGES_READ = 1000
#: The agent page lists its newest answering runs (resumed only to answer questions).
ANSWERING_RUNS_SHOWN = 20


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
    live = [agent for agent in repos.agents.find_all() if agent.status in LIVE_AGENT_STATUSES]
    usage = services.usage.by_agent() if live else {}
    running = [agent_summary(services, a, names, now, usage.get(a.id)) for a in live]
    waiting = services.human_questions.inbox()
    recent = repos.conversations.list_page(limit=RECENT_CONVERSATIONS).items
    return {
        "initiatives": initiatives,
        "runningAgents": running,
        "answeringRuns": len(repos.answering_runs.find_open()),
        "openQuestions": {
            "count": len(waiting),
            "oldestAskedAt": to_api(waiting[0])["createdAt"] if waiting else None,
        },
        "recentConversations": [conversation_view(c, names) for c in recent],
    }


# --- agents --------------------------------------------------------------------------


def agent_summary(
    services: Services,
    agent: Agent,
    names: _Names,
    now: datetime,
    usage: UsageTotals | None = None,
) -> dict[str, Any]:
    """An agent's row on every page: who, doing what, for how long, at what cost.

    Cost, turns, tokens and run time are summed over the agent's runs (one per session:
    its spawn and each resume), each as its CLI reported it, so a resume adds to them
    instead of replacing them; a run still going counts up to now. An agent that no
    runner started (registered by hand) has no runs: its result's ``totalCostUsd``,
    ``numTurns`` and ``durationMs`` are shown, and while active the time since it was
    registered."""
    account = services.repos.accounts.find_by_id(agent.account_id) if agent.account_id else None
    cost: float | None
    turns: int | None
    running: int | None
    if usage is not None and usage.runs:
        cost, turns, running = usage.cost_usd, usage.turns, usage.run_ms // 1000
    else:
        cost, turns, running = _reported(agent, now)
    return {
        **to_api(agent),
        "taskName": names.task_name(agent.task_id),
        "accountEmail": account.email if account is not None else None,
        "sessionNumber": services.repos.log_chunks.get_session_count(agent.id),
        "runningSeconds": running,
        "costUsd": cost,
        "turns": turns,
        "usage": (usage or UsageTotals()).to_api(),
    }


def _reported(agent: Agent, now: datetime) -> tuple[float | None, int | None, int | None]:
    """Cost, turns and seconds from the agent's own result (keys as the runner writes
    them), for an agent without recorded runs."""
    result = agent.result if isinstance(agent.result, dict) else {}
    cost, turns, duration = (
        result.get("totalCostUsd"),
        result.get("numTurns"),
        result.get("durationMs"),
    )
    running = None
    if agent.status in ACTIVE_AGENT_STATUSES:
        running = max(int((now - agent.created_at).total_seconds()), 0)
    elif isinstance(duration, int):
        running = duration // 1000
    return (
        cost if isinstance(cost, int | float) else None,
        turns if isinstance(turns, int) else None,
        running,
    )


def agents(services: Services, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    names = _Names(services)
    usage = services.usage.by_agent()
    rows = [
        agent_summary(services, a, names, now, usage.get(a.id))
        for a in services.repos.agents.find_all()
    ]
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
    answering = repos.answering_runs.find_by_agent(found.id, limit=ANSWERING_RUNS_SHOWN)
    return {
        "agent": agent_summary(services, found, names, now, services.usage.of_agent(found.id)),
        "answeringRuns": [to_api(run) for run in answering],
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
        about = message.task_id or (asker.task_id if asker is not None else None)
        items.append(
            {
                **to_api(message),
                "fromAgentName": asker.name if asker is not None else None,
                "aboutTaskId": about if names.task(about) is not None else None,
                "taskName": names.task_name(about),
            }
        )
    awaiting = [
        {"id": t.id, "name": t.name, "updatedAt": to_api(t)["updatedAt"]}
        for t in services.repos.tasks.find_pending_approval(None)
    ]
    return {"messages": items, "awaitingApproval": awaiting}


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
    """Phases and tasks, the task graph laid out, each task's agent, approval and cost,
    what the initiative cost, and the last push of its branch to each project; the files
    several agents' unmerged work changed, and whether each pair's work would merge
    cleanly (the ownership index: no git on a page view)."""
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
    now = _now()
    runs = repos.agent_runs.find(initiative_id=found.id)
    spent = totals_by(runs, lambda run: run.task_id, now)
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
                "usage": spent.get(task.id, UsageTotals()).to_api(),
                "x": node.x,
                "y": node.y,
            }
        )
    overlaps = repos.ownership.overlaps(found.id)
    previews = repos.ownership.previews(found.id)
    return {
        "initiative": to_api(found),
        "usage": total(runs, now).to_api(),
        "pushes": [push_to_api(push) for push in repos.projects.find_pushes(found.id)],
        "overlaps": [
            {
                "file": overlap.path,
                "agents": [
                    {"id": id, "name": names.agent_name(id) or id} for id in overlap.agent_ids
                ],
            }
            for overlap in overlaps
        ],
        "mergePreview": [
            {
                "agents": [
                    {"id": id, "name": names.agent_name(id) or id}
                    for id in (preview.agent_id, preview.other_agent_id)
                ],
                "conflicts": preview.conflicts,
                "files": list(preview.files),
            }
            for preview in previews
        ],
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


# --- a task ---------------------------------------------------------------------------


def task(
    services: Services, id: str, *, with_diff: bool = True, now: datetime | None = None
) -> dict[str, Any]:
    """A task, its agents and what they cost, the person's comments to them, and the
    diff of its work (``task.diff``; git runs here, so the page asks for it on full
    loads only, not on every live refresh)."""
    now = now or _now()
    repos = services.repos
    found = repos.tasks.get(id)
    names = _Names(services)
    initiative = repos.initiatives.find_by_id(found.initiative_id) if found.initiative_id else None
    working = repos.agents.find_by_task_id(found.id)
    runs = repos.agent_runs.find(task_id=found.id)
    per_agent = totals_by(runs, lambda run: run.agent_id, now)
    diff = None
    if with_diff:
        diff = task_diff_to_api(services.review.read_diff(found.id))
        for project in diff["projects"]:
            for change in project["files"]:
                lines = (change["patch"] or "").count("\n")
                change["lines"] = lines
                change["long"] = lines > LONG_FILE_LINES
    return {
        "task": {**to_api(found), "requiresApprovalEffective": repos.tasks.requires_approval(id)},
        "initiative": None
        if initiative is None
        else {"id": initiative.id, "name": initiative.name, "branch": initiative.branch},
        "phaseName": names.phase_name(found.phase_id),
        "agents": [agent_summary(services, a, names, now, per_agent.get(a.id)) for a in working],
        "usage": total(runs, now).to_api(),
        "awaitingApproval": found.status is TaskStatus.PENDING_APPROVAL,
        "comments": _comments(services, found, working),
        "diff": diff,
        "diffTakenAt": None if diff is None else to_iso(now),
    }


def _comments(services: Services, task: Task, working: list[Agent]) -> list[dict[str, Any]]:
    """What the person told the task's agents about it (a request for changes), oldest first."""
    found = []
    for agent in working:
        sent = services.repos.messages.list_page(
            recipient_id=agent.id, sender_type=ParticipantType.USER, limit=200
        ).items
        found += [{**to_api(m), "agentName": agent.name} for m in sent if m.task_id == task.id]
    return sorted(found, key=lambda m: (m["createdAt"], m["id"]))
