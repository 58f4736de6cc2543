"""``initiative.status``: where an initiative's work stands and what each task waits for,
and where agents' unmerged work meets: the files several agents changed, and whether
each pair's work would merge cleanly (from the ownership index, never git)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crosswalk.db.repositories import (
    AgentRepository,
    AgentRunRepository,
    ConversationRepository,
    MessageRepository,
    OwnershipRepository,
    ProjectRepository,
)
from crosswalk.dispatch.choose import Plan, is_checkpoint, ready, waits_for_prerequisites
from crosswalk.domain.enums import (
    LIVE_AGENT_STATUSES,
    AgentStatus,
    ConversationStatus,
    DispatchStatus,
    ParticipantType,
    TaskStatus,
)
from crosswalk.domain.rows import (
    Agent,
    AgentRun,
    Conversation,
    Initiative,
    MergePreview,
    Message,
    Overlap,
    ProjectPush,
    Task,
)
from crosswalk.domain.timestamps import to_iso, utcnow
from crosswalk.domain.usage import UsageTotals, total, totals_by
from crosswalk.services.targets import describe


@dataclass(frozen=True, slots=True)
class Situation:
    """Everything the status reads, gathered once."""

    initiative: Initiative
    plan: Plan
    agents: list[Agent]  # the initiative's agents, most recently updated first
    asked: list[Conversation]  # pending questions asked by those agents
    open_messages: list[Message]  # questions to the person about its tasks or from its agents
    names: dict[str, str]  # agent id -> name, for every agent named above
    runs: list[AgentRun]  # every run of an agent for the initiative, with its usage
    pushes: list[ProjectPush]  # its projects, each with the last push of its branch
    now: datetime
    overlaps: list[Overlap]  # files the unmerged work of several agents changed
    previews: list[MergePreview]  # whether pairs of agents' unmerged work merge cleanly


def gather(
    initiative: Initiative,
    plan: Plan,
    *,
    agents: AgentRepository,
    conversations: ConversationRepository,
    messages: MessageRepository,
    runs: AgentRunRepository,
    projects: ProjectRepository,
    ownership: OwnershipRepository,
    now: datetime | None = None,
) -> Situation:
    task_ids = {task.id for task in plan.tasks}
    mine = [
        agent
        for agent in agents.find_all()
        if agent.initiative_id == initiative.id or agent.task_id in task_ids
    ]
    mine.sort(key=lambda agent: agent.updated_at, reverse=True)
    agent_ids = {agent.id for agent in mine}
    asked = [
        conversation
        for agent in mine
        for conversation in conversations.list_page(
            agent_id=agent.id, status=ConversationStatus.PENDING, limit=100
        ).items
        if conversation.from_agent_id == agent.id
    ]
    open_messages = [
        message
        for message in messages.find_requiring_response()
        if message.recipient_type is ParticipantType.USER
        and (message.task_id in task_ids or message.sender_id in agent_ids)
    ]
    names = {agent.id: agent.name for agent in mine}
    overlaps = ownership.overlaps(initiative.id)
    previews = ownership.previews(initiative.id)
    named = [c.to_agent_id for c in asked] + [a for o in overlaps for a in o.agent_ids]
    named += [id for p in previews for id in (p.agent_id, p.other_agent_id)]
    for agent_id in named:
        if agent_id not in names:
            other = agents.find_by_id(agent_id)
            names[agent_id] = other.name if other else agent_id
    spent = runs.find(initiative_id=initiative.id)
    pushes = projects.find_pushes(initiative.id)
    return Situation(
        initiative,
        plan,
        mine,
        asked,
        open_messages,
        names,
        spent,
        pushes,
        now or utcnow(),
        overlaps,
        previews,
    )


def waiting_for(situation: Situation, task: Task) -> str | None:
    """What the task waits for, in words a person acts on (None: nothing)."""
    plan, initiative = situation.plan, situation.initiative
    questions = [m for m in situation.open_messages if m.task_id == task.id]
    if task.status is TaskStatus.COMPLETED:
        return None
    if task.status is TaskStatus.PENDING_APPROVAL:
        return f"a person's approval of the merge: cw task approve {task.id}"
    if task.status is TaskStatus.BLOCKED:
        if questions:
            return f"the person: message {questions[0].id} in cw inbox"
        return f"someone to unblock it (cw task retry-merge {task.id}, or set it pending)"
    if task.status is TaskStatus.IN_PROGRESS:
        if is_checkpoint(task):
            if questions:
                return f"the person's reply to message {questions[0].id} (cw reply)"
            return "the person"
        return _agent_waits(situation, task)
    prerequisites = waits_for_prerequisites(plan, task)
    if prerequisites is not None:
        return prerequisites
    if initiative.dispatch_status is not DispatchStatus.RUNNING:
        return f"dispatch to run (it is {initiative.dispatch_status.value}): cw initiative run"
    if is_checkpoint(task) or task not in ready(plan):
        return "dispatch"
    limit = initiative.dispatch_max_agents or 1
    return f"a free agent slot ({plan.agents_in_progress()} of {limit} in progress)"


def _agent_waits(situation: Situation, task: Task) -> str:
    agent = next((a for a in situation.agents if a.task_id == task.id), None)
    if agent is None:
        return "its agent to start"
    if agent.status is AgentStatus.WAITING_FOR_INPUT:
        for question in situation.open_messages:
            if question.sender_id == agent.id:
                return (
                    f"the person's answer to agent {agent.name}'s question: message "
                    f"{question.id} (cw reply)"
                )
    for conversation in situation.asked:
        if conversation.from_agent_id == agent.id:
            who = situation.names.get(conversation.to_agent_id, conversation.to_agent_id)
            return f"agent {who}'s answer to conversation {conversation.id}"
    return f"agent {describe(agent)} ({agent.status.value})"


def report(situation: Situation) -> dict[str, Any]:
    """The API shape of ``initiative.status``."""
    by_status: dict[str, list[dict[str, Any]]] = {status.value: [] for status in TaskStatus}
    now = situation.now
    per_task = totals_by(situation.runs, lambda run: run.task_id, now)
    per_agent = totals_by(situation.runs, lambda run: run.agent_id, now)
    for task in situation.plan.tasks:
        agent = next((a for a in situation.agents if a.task_id == task.id), None)
        by_status[task.status.value].append(
            {
                "id": task.id,
                "name": task.name,
                "type": task.type.value,
                "priority": task.priority.value,
                "agent": agent.name if agent is not None else None,
                "waitingFor": waiting_for(situation, task),
                "usage": per_task.get(task.id, UsageTotals()).to_api(),
            }
        )
    initiative = situation.initiative
    return {
        "id": initiative.id,
        "name": initiative.name,
        "branch": initiative.branch,
        "dispatch": {
            "status": initiative.dispatch_status.value,
            "maxAgents": initiative.dispatch_max_agents,
            "provider": initiative.dispatch_provider,
        },
        "tasks": by_status,
        "usage": total(situation.runs, now).to_api(),
        "autoPush": initiative.auto_push,
        "pushes": [push_to_api(push) for push in situation.pushes],
        "runningAgents": [
            {
                "id": a.id,
                "name": a.name,
                "taskId": a.task_id,
                "status": a.status.value,
                "usage": per_agent.get(a.id, UsageTotals()).to_api(),
            }
            for a in situation.agents
            if a.status in LIVE_AGENT_STATUSES
        ],
        "openQuestions": [
            {
                "kind": "conversation",
                "id": c.id,
                "from": c.from_agent_id,
                "to": c.to_agent_id,
                "question": c.question,
            }
            for c in situation.asked
        ]
        + [
            {
                "kind": "message",
                "id": m.id,
                "from": m.sender_id,
                "taskId": m.task_id,
                "question": m.content,
            }
            for m in situation.open_messages
        ],
        "overlaps": [
            {
                "file": overlap.path,
                "agents": list(overlap.agent_ids),
                "agentNames": [situation.names[id] for id in overlap.agent_ids],
            }
            for overlap in situation.overlaps
        ],
        "mergePreview": [
            {
                "agents": [preview.agent_id, preview.other_agent_id],
                "agentNames": [
                    situation.names[preview.agent_id],
                    situation.names[preview.other_agent_id],
                ],
                "conflicts": preview.conflicts,
                "files": list(preview.files),
                "checkedAt": to_iso(preview.checked_at),
            }
            for preview in situation.previews
        ],
    }


def push_to_api(push: ProjectPush) -> dict[str, Any]:
    """A project of the initiative and the last push of its branch there."""
    return {
        "projectId": push.project_id,
        "project": push.project_name,
        "url": push.url,
        "pushedCommit": push.pushed_commit,
        "pushedAt": None if push.pushed_at is None else to_iso(push.pushed_at),
        "pushError": push.push_error,
    }
