"""In-memory stand-ins for the repository ports the conversation service uses.

They implement just the methods the services call, with the ports' ordering
rules (most recently updated agent first, oldest conversation first).
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    AgentMode,
    AgentStatus,
    ConversationStatus,
    PhaseStatus,
    TaskCategory,
    TaskPriority,
    TaskStatus,
    TaskType,
)
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import Agent, Conversation, NewConversation, Phase, Task

_clock = itertools.count()
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def tick() -> datetime:
    return _EPOCH + timedelta(milliseconds=next(_clock))


def make_agent(
    id: str, *, task_id: str | None = None, status: AgentStatus = AgentStatus.RUNNING
) -> Agent:
    now = tick()
    return Agent(
        id=id, name=f"{id}-name", task_id=task_id, initiative_id=None, session_id=None,
        worktree_id=".", provider="claude", account_id=None, status=status,
        mode=AgentMode.EXECUTE, pid=None, exit_code=None, output_file_path=None, result=None,
        pending_questions=None, user_dismissed_at=None, token_hash=None,
        created_at=now, updated_at=now,
    )  # fmt: skip


def make_task(id: str, *, phase_id: str | None, initiative_id: str | None = "init") -> Task:
    now = tick()
    return Task(
        id=id, phase_id=phase_id, initiative_id=initiative_id, parent_task_id=None, name=id,
        description=None, type=TaskType.AUTO, category=TaskCategory.EXECUTE,
        priority=TaskPriority.MEDIUM, status=TaskStatus.IN_PROGRESS, requires_approval=None,
        order=0, created_at=now, updated_at=now,
    )  # fmt: skip


def make_phase(id: str, initiative_id: str = "init") -> Phase:
    now = tick()
    return Phase(
        id=id, initiative_id=initiative_id, name=id, content=None,
        status=PhaseStatus.IN_PROGRESS, created_at=now, updated_at=now,
    )  # fmt: skip


class FakeAgents:
    def __init__(self, *agents: Agent) -> None:
        self.rows = {agent.id: agent for agent in agents}

    def find_by_id(self, id: str) -> Agent | None:
        return self.rows.get(id)

    def find_by_name(self, name: str) -> Agent | None:
        return next((a for a in self.rows.values() if a.name == name), None)

    def _active(self, keep: list[Agent]) -> list[Agent]:
        active = [a for a in keep if a.status in ACTIVE_AGENT_STATUSES]
        return sorted(active, key=lambda a: a.updated_at, reverse=True)

    def find_active_by_task_id(self, task_id: str) -> list[Agent]:
        return self._active([a for a in self.rows.values() if a.task_id == task_id])

    def find_active_by_phase_id(self, phase_id: str) -> list[Agent]:
        raise NotImplementedError  # replaced per test through FakeAgentsWithTasks


class FakeAgentsWithTasks(FakeAgents):
    def __init__(self, tasks: FakeTasks, *agents: Agent) -> None:
        super().__init__(*agents)
        self.tasks = tasks

    def find_active_by_phase_id(self, phase_id: str) -> list[Agent]:
        in_phase = {t.id for t in self.tasks.rows.values() if t.phase_id == phase_id}
        return self._active([a for a in self.rows.values() if a.task_id in in_phase])


class FakeTasks:
    def __init__(self, *tasks: Task) -> None:
        self.rows = {task.id: task for task in tasks}

    def find_by_id(self, id: str) -> Task | None:
        return self.rows.get(id)

    def get(self, id: str) -> Task:
        if id not in self.rows:
            raise NotFoundError("task", id)
        return self.rows[id]


class FakePhases:
    def __init__(self, *phases: Phase) -> None:
        self.rows = {phase.id: phase for phase in phases}

    def get(self, id: str) -> Phase:
        if id not in self.rows:
            raise NotFoundError("phase", id)
        return self.rows[id]


class FakeConversations:
    def __init__(self) -> None:
        self.rows: dict[str, Conversation] = {}

    def create(self, data: NewConversation) -> Conversation:
        stored = self.rows.get(data.id) if data.id else None
        if stored is not None:  # the port's replay rule
            if (stored.from_agent_id, stored.question) != (data.from_agent_id, data.question):
                raise ConflictError(f"conversation '{stored.id}' already exists")
            return stored
        now = tick()
        row = Conversation(
            id=data.id or f"c{len(self.rows) + 1}", from_agent_id=data.from_agent_id,
            to_agent_id=data.to_agent_id, initiative_id=data.initiative_id,
            phase_id=data.phase_id, task_id=data.task_id, question=data.question, answer=None,
            status=ConversationStatus.PENDING, abandoned_reason=None, created_at=now,
            updated_at=now,
        )  # fmt: skip
        self.rows[row.id] = row
        return row

    def find_by_id(self, id: str) -> Conversation | None:
        return self.rows.get(id)

    def get(self, id: str) -> Conversation:
        if id not in self.rows:
            raise NotFoundError("conversation", id)
        return self.rows[id]

    def find_pending_for_agent(self, agent_id: str) -> list[Conversation]:
        pending = [
            c for c in self.rows.values()
            if c.to_agent_id == agent_id and c.status is ConversationStatus.PENDING
        ]  # fmt: skip
        return sorted(pending, key=lambda c: (c.created_at, c.id))

    def answer(self, id: str, answer: str) -> Conversation:
        row = self.get(id)
        if row.status is ConversationStatus.ANSWERED:
            raise ConflictError(f"conversation '{id}' is already answered")
        row = replace(row, answer=answer, status=ConversationStatus.ANSWERED, updated_at=tick())
        self.rows[id] = row
        return row

    def abandon_pending_to(self, agent_id: str, reason: str) -> list[Conversation]:
        abandoned = []
        for row in self.find_pending_for_agent(agent_id):
            row = replace(
                row, status=ConversationStatus.ABANDONED, abandoned_reason=reason, updated_at=tick()
            )
            self.rows[row.id] = row
            abandoned.append(row)
        return abandoned
