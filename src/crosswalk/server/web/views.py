"""What each dashboard page shows, as plain JSON-ready dicts (the pages' JSON twins).

Reads go through the repositories and services the API uses; rows are turned into
API objects by ``to_api``, which leaves out every secret (agent token hashes, account
credentials and config), so a template can never render one. Times stay ISO-8601
strings, as in the API; templates show them as "3 min ago" with the exact time on hover.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crosswalk.dispatch.review import TaskDiff
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
#: How many of the person's messages to a task's agents the task page reads for its comments.
COMMENTS_READ = 1000
#: The agent page lists its newest answering runs (resumed only to answer questions).
ANSWERING_RUNS_SHOWN = 20


def _now() -> datetime:
    return datetime.now(UTC)


class _Names:
    """The agents, tasks and phases a page names, read once per page: one query per
    kind, whatever the number of rows (ids are gathered first, then read together)."""

    def __init__(
        self,
        services: Services,
        *,
        agents: Iterable[str | None] = (),
        tasks: Iterable[str | None] = (),
        phases: Iterable[str | None] = (),
    ) -> None:
        repos = services.repos
        agent_ids = {id for id in agents if id is not None}
        task_ids = {id for id in tasks if id is not None}
        phase_ids = {id for id in phases if id is not None}
        self._agents = {a.id: a for a in repos.agents.find_by_ids(agent_ids)} if agent_ids else {}
        self._tasks = {t.id: t for t in repos.tasks.find_by_ids(task_ids)} if task_ids else {}
        self._phases = (
            {p.id: p.name for p in repos.phases.find_by_ids(phase_ids)} if phase_ids else {}
        )

    @classmethod
    def of_conversations(cls, services: Services, conversations: Sequence[Conversation]) -> _Names:
        return cls(
            services,
            agents=[id for c in conversations for id in (c.from_agent_id, c.to_agent_id)],
            tasks=[c.task_id for c in conversations],
            phases=[c.phase_id for c in conversations],
        )

    def agent(self, agent_id: str | None) -> Agent | None:
        return None if agent_id is None else self._agents.get(agent_id)

    def agent_name(self, agent_id: str | None) -> str | None:
        agent = self.agent(agent_id)
        return agent.name if agent is not None else None

    def task(self, task_id: str | None) -> Task | None:
        return None if task_id is None else self._tasks.get(task_id)

    def task_name(self, task_id: str | None) -> str | None:
        task = self.task(task_id)
        return task.name if task is not None else None

    def phase_name(self, phase_id: str | None) -> str | None:
        return None if phase_id is None else self._phases.get(phase_id)


# --- overview ------------------------------------------------------------------------


def overview(services: Services, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    repos = services.repos
    counts: dict[str | None, Counter[str]] = {}
    for task in repos.tasks.find_all():
        counts.setdefault(task.initiative_id, Counter())[task.status.value] += 1
    initiatives = []
    for initiative in repos.initiatives.find_all():
        by_state = counts.get(initiative.id, Counter())
        total = sum(by_state.values())
        initiatives.append(
            {
                **to_api(initiative),
                "tasks": {state: by_state.get(state, 0) for state in TASK_STATES},
                "taskCount": total,
                "percentDone": round(100 * by_state.get("completed", 0) / total) if total else 0,
            }
        )
    live = [agent for agent in repos.agents.find_all() if agent.status in LIVE_AGENT_STATUSES]
    waiting = services.human_questions.inbox()
    recent = repos.conversations.list_page(limit=RECENT_CONVERSATIONS).items
    names = _Names.of_conversations(services, recent)
    return {
        "initiatives": initiatives,
        "runningAgents": agent_summaries(services, live, now),
        "answeringRuns": len(repos.answering_runs.find_open()),
        "openQuestions": {
            "count": len(waiting),
            "oldestAskedAt": to_api(waiting[0])["createdAt"] if waiting else None,
        },
        "recentConversations": [conversation_view(c, names) for c in recent],
    }


# --- agents --------------------------------------------------------------------------


def agent_summaries(
    services: Services,
    agents: Sequence[Agent],
    now: datetime,
    usage: Mapping[str, UsageTotals] | None = None,
) -> list[dict[str, Any]]:
    """Each agent's row on every page: who, doing what, for how long, at what cost.

    Cost, turns, tokens and run time are summed over the agent's runs (one per session:
    its spawn and each resume), each as its CLI reported it, so a resume adds to them
    instead of replacing them; a run still going counts up to now. An agent that no
    runner started (registered by hand) has no runs: its result's ``totalCostUsd``,
    ``numTurns`` and ``durationMs`` are shown, and while active the time since it was
    registered. ``usage`` by agent id, when the caller already has it; else read here.

    A fixed number of reads for any number of agents: their runs, accounts, task names
    and session counts are each read once for all of them."""
    if not agents:
        return []
    repos = services.repos
    if usage is None:
        usage = services.usage.by_agent()
    ids = [agent.id for agent in agents]
    names = _Names(services, tasks=[agent.task_id for agent in agents])
    emails = {account.id: account.email for account in repos.accounts.find_all()}
    sessions = repos.log_chunks.session_counts(ids)
    rows = []
    for agent in agents:
        spent = usage.get(agent.id)
        cost: float | None
        turns: int | None
        running: int | None
        if spent is not None and spent.runs:
            cost, turns, running = spent.cost_usd, spent.turns, spent.run_ms // 1000
        else:
            cost, turns, running = _reported(agent, now)
        rows.append(
            {
                **to_api(agent),
                "taskName": names.task_name(agent.task_id),
                "accountEmail": emails.get(agent.account_id) if agent.account_id else None,
                "sessionNumber": sessions.get(agent.id, 0),
                "runningSeconds": running,
                "costUsd": cost,
                "turns": turns,
                "usage": (spent or UsageTotals()).to_api(),
            }
        )
    return rows


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
    rows = agent_summaries(services, services.repos.agents.find_all(), now)
    rows.sort(key=lambda row: (row["status"] not in ACTIVE_AGENT_STATUSES, row["name"]))
    return {"agents": rows}


def agent(services: Services, id_or_name: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or _now()
    repos = services.repos
    found = services.agents.resolve(id_or_name)
    conversations = repos.conversations.list_page(agent_id=found.id, limit=50).items
    names = _Names.of_conversations(services, conversations)
    answering = repos.answering_runs.find_by_agent(found.id, limit=ANSWERING_RUNS_SHOWN)
    chunks = repos.log_chunks.find_by_agent_id(found.id)
    entries = logs.render_sessions((chunk.session_number, chunk.content) for chunk in chunks)
    shown = logs.newest(entries, LOG_ENTRIES_SHOWN)
    usage = {found.id: services.usage.of_agent(found.id)}
    return {
        "agent": agent_summaries(services, [found], now, usage)[0],
        "answeringRuns": [to_api(run) for run in answering],
        "tellDelivery": delivery_for(found).value,
        "messages": [to_api(m) for m in with_the_person(services, found)],
        "log": [{"kind": e.kind, "title": e.title, "text": e.text} for e in shown],
        "logEntriesHidden": max(len(entries) - LOG_ENTRIES_SHOWN, 0),
        "conversations": [conversation_view(c, names) for c in conversations],
    }


def with_the_person(services: Services, agent: Agent) -> list[Message]:
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
    agent_id = None
    if agent:
        found = services.agents.find(agent)
        agent_id = found.id if found is not None else agent
    wanted = ConversationStatus(status) if status in _CONVERSATION_STATES else None
    page = repos.conversations.list_page(
        agent_id=agent_id, task_id=task or None, status=wanted, limit=CONVERSATION_PAGE
    )
    names = _Names.of_conversations(services, page.items)
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
    waiting = services.human_questions.inbox()
    askers = _Names(services, agents=[message.sender_id for message in waiting])
    about: dict[str, str | None] = {}
    for message in waiting:
        asker = askers.agent(message.sender_id)
        about[message.id] = message.task_id or (asker.task_id if asker is not None else None)
    tasks = _Names(services, tasks=about.values())
    items = []
    for message in waiting:
        task_id = about[message.id]
        items.append(
            {
                **to_api(message),
                "fromAgentName": askers.agent_name(message.sender_id),
                "aboutTaskId": task_id if tasks.task(task_id) is not None else None,
                "taskName": tasks.task_name(task_id),
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
    phases = repos.phases.find_by_initiative_id(found.id)
    phase_order = {p.id: index for index, p in enumerate(phases)}
    phase_deps = {
        phase_id: sorted(deps, key=lambda d: phase_order.get(d, len(phases)))
        for phase_id, deps in repos.phases.prerequisite_ids_of(list(phase_order)).items()
    }
    tasks = sorted(
        repos.tasks.find_by_initiative_id(found.id),
        key=lambda t: (phase_order.get(t.phase_id or "", len(phases)), t.order, t.created_at),
    )
    by_id = {task.id: task for task in tasks}
    created = sorted(tasks, key=lambda t: (t.created_at, t.id))
    creation_order = {task.id: index for index, task in enumerate(created)}
    task_deps = {
        task_id: sorted(deps, key=lambda d: creation_order.get(d, len(tasks)))
        for task_id, deps in repos.tasks.prerequisite_ids_of(list(by_id)).items()
    }
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
    working: dict[str | None, list[Agent]] = {}
    for agent in repos.agents.find_by_task_ids(list(by_id)):
        working.setdefault(agent.task_id, []).append(agent)
    approval = repos.tasks.requires_approval_of(list(by_id))
    task_rows = []
    for task in tasks:
        node = placed.nodes[task.id]
        task_rows.append(
            {
                **to_api(task),
                "phaseName": phase_names.get(task.phase_id or ""),
                "dependsOn": task_deps[task.id],
                "dependsOnNames": [
                    by_id[dep].name if dep in by_id else None for dep in task_deps[task.id]
                ],
                "agents": [
                    {"id": a.id, "name": a.name, "status": a.status.value}
                    for a in working.get(task.id, [])
                ],
                "needsApproval": approval[task.id],
                "awaitingApproval": task.status is TaskStatus.PENDING_APPROVAL,
                "usage": spent.get(task.id, UsageTotals()).to_api(),
                "x": node.x,
                "y": node.y,
            }
        )
    overlaps = repos.ownership.overlaps(found.id)
    previews = repos.ownership.previews(found.id)
    names = _Names(
        services,
        agents=[
            *(id for overlap in overlaps for id in overlap.agent_ids),
            *(id for preview in previews for id in (preview.agent_id, preview.other_agent_id)),
        ],
    )
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
    services: Services,
    id: str,
    *,
    read_diff: Callable[[str], TaskDiff] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A task, its agents and what they cost, the person's comments to them, and the
    diff of its work read by ``read_diff`` (``task.diff``; git runs there, so the page
    passes it on full loads only, not on every live refresh)."""
    now = now or _now()
    repos = services.repos
    found = repos.tasks.get(id)
    names = _Names(services, phases=[found.phase_id])
    initiative = repos.initiatives.find_by_id(found.initiative_id) if found.initiative_id else None
    working = repos.agents.find_by_task_id(found.id)
    runs = repos.agent_runs.find(task_id=found.id)
    per_agent = totals_by(runs, lambda run: run.agent_id, now)
    diff = None
    if read_diff is not None:
        diff = task_diff_to_api(read_diff(found.id))
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
        "agents": agent_summaries(services, working, now, per_agent),
        "usage": total(runs, now).to_api(),
        "awaitingApproval": found.status is TaskStatus.PENDING_APPROVAL,
        "comments": _comments(services, found, working),
        "diff": diff,
        "diffTakenAt": None if diff is None else to_iso(now),
    }


def _comments(services: Services, task: Task, working: list[Agent]) -> list[dict[str, Any]]:
    """What the person told the task's agents about it (a request for changes), oldest first."""
    names = {agent.id: agent.name for agent in working}
    told = services.repos.messages.find_told(list(names), limit=COMMENTS_READ)
    return sorted(
        (
            {**to_api(m), "agentName": names.get(m.recipient_id or "")}
            for m in told
            if m.task_id == task.id
        ),
        key=lambda m: (m["createdAt"], m["id"]),
    )
