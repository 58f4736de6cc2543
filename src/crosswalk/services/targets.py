"""Who a question goes to: resolution of `conversation.ask`'s target.

An asker names an agent (by id or name), a task or a phase; this module turns
that into one active agent plus the task, phase and initiative the question is
about, or an error that tells the asker what to do instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from crosswalk.db.repositories import AgentRepository
from crosswalk.domain.enums import ACTIVE_AGENT_STATUSES, TargetKind
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import Agent


@dataclass(frozen=True, slots=True)
class Target:
    """Exactly one of the three ways to address a question."""

    agent: str | None = None  # an agent id or name
    task_id: str | None = None
    phase_id: str | None = None

    @property
    def kind(self) -> TargetKind:
        if self.agent:
            return TargetKind.AGENT
        return TargetKind.TASK if self.task_id else TargetKind.PHASE

    def __post_init__(self) -> None:
        given = [value for value in (self.agent, self.task_id, self.phase_id) if value]
        if len(given) != 1:
            raise InvalidInputError(
                "give exactly one target: toAgentId, taskId or phaseId", field="toAgentId"
            )


@dataclass(frozen=True, slots=True)
class Resolution:
    agent: Agent
    task_id: str | None
    phase_id: str | None
    initiative_id: str | None


def is_active(agent: Agent) -> bool:
    return agent.status in ACTIVE_AGENT_STATUSES


def describe(agent: Agent) -> str:
    task = f" on task '{agent.task_id}'" if agent.task_id else ""
    return f"{agent.name} ({agent.id}){task}"


def resolve_target(target: Target, asker: Agent, *, agents: AgentRepository) -> Resolution:
    """Resolve ``target`` for ``asker`` as ``docs/contract.md`` specifies (see module
    docstring). Each kind is one read: who answers, and where the question belongs."""
    if target.agent is not None:
        return _resolve_agent(target.agent, asker, agents)
    if target.task_id is not None:
        return _resolve_task(target.task_id, asker, agents)
    assert target.phase_id is not None
    return _resolve_phase(target.phase_id, asker, agents)


def _resolve_agent(id_or_name: str, asker: Agent, agents: AgentRepository) -> Resolution:
    located = agents.locate(id_or_name)
    if located is None:
        raise NotFoundError("agent", id_or_name)
    agent = located.agent
    if agent.id == asker.id:
        raise InvalidInputError("an agent cannot ask itself", field="toAgentId")
    if not is_active(agent):
        raise PreconditionFailedError(
            f"agent {agent.name} ({agent.id}) is {agent.status.value} and cannot answer; "
            "ask another agent, or ask by task or phase"
        )
    return Resolution(
        agent,
        agent.task_id,
        located.task_phase_id,
        located.task_initiative_id or agent.initiative_id,
    )


def _resolve_task(task_id: str, asker: Agent, agents: AgentRepository) -> Resolution:
    workers = agents.workers_of_task(task_id)
    if workers is None:
        raise NotFoundError("task", task_id)
    working = workers.agents
    candidates = [agent for agent in working if agent.id != asker.id]
    if not candidates:
        if working:
            raise InvalidInputError(
                f"you are the only active agent working on task '{task_id}'; "
                "an agent cannot ask itself",
                field="taskId",
            )
        raise NotFoundError("task", task_id, f"no active agent is working on task '{task_id}'")
    # The ports return the most recently updated agent first.
    return Resolution(candidates[0], task_id, workers.phase_id, workers.initiative_id)


def _resolve_phase(phase_id: str, asker: Agent, agents: AgentRepository) -> Resolution:
    workers = agents.workers_in_phase(phase_id)
    if workers is None:
        raise NotFoundError("phase", phase_id)
    working = workers.agents
    candidates = [agent for agent in working if agent.id != asker.id]
    if not candidates:
        raise NotFoundError(
            "phase", phase_id, f"no active agent other than you is working on phase '{phase_id}'"
        )
    if len(candidates) > 1:
        listed = "; ".join(describe(agent) for agent in candidates)
        raise ConflictError(
            f"{len(candidates)} active agents work on phase '{phase_id}': {listed}. "
            "Ask one of them by agent (--agent) or by task (--task)."
        )
    agent = candidates[0]
    return Resolution(agent, agent.task_id, phase_id, workers.initiative_id)
