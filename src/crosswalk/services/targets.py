"""Who a question goes to: resolution of `conversation.ask`'s target.

An asker names an agent (by id or name), a task, a phase or a file
(``crosswalk.domain.targets``: one type per kind); this module turns that into one
active agent plus the task, phase and initiative the question is about, or an error
that tells the asker what to do instead. One resolver per kind, each one read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from crosswalk.db.repositories import AgentRepository, OwnershipRepository
from crosswalk.domain.enums import ACTIVE_AGENT_STATUSES
from crosswalk.domain.errors import (
    ConflictError,
    CrosswalkError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import Agent, FileOwner
from crosswalk.domain.targets import (
    AgentTarget,
    FileTarget,
    PhaseTarget,
    Target,
    TaskTarget,
    covers,
)

__all__ = [
    "AgentTarget",
    "FileTarget",
    "PhaseTarget",
    "Resolution",
    "Target",
    "TaskTarget",
    "describe",
    "find_initiative_of",
    "initiative_of",
    "resolve_target",
]


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


def resolve_target(
    target: Target,
    asker: Agent | None,
    *,
    agents: AgentRepository,
    ownership: OwnershipRepository | None = None,
) -> Resolution:
    """Resolve ``target`` for ``asker`` (None: the person) as ``docs/contract.md``
    specifies (see module docstring). Each kind is one read: who answers, and where the
    question belongs."""
    match target:
        case AgentTarget(agent=id_or_name):
            return _resolve_agent(id_or_name, asker, agents)
        case TaskTarget(task_id=task_id):
            return _resolve_task(task_id, asker, agents)
        case PhaseTarget(phase_id=phase_id):
            return _resolve_phase(phase_id, asker, agents)
        case FileTarget():
            if ownership is None:
                raise PreconditionFailedError("this server keeps no index of who changed what")
            if asker is None:
                raise InvalidInputError(
                    "asking by file looks in the asking agent's initiative, and the person "
                    "has none: ask by agent (--agent) or task (--task); cw who PATH names "
                    "the agents that changed a file",
                    field="file",
                )
            return _resolve_file(target, asker, agents, ownership)
        case _:
            assert_never(target)


def _resolve_agent(id_or_name: str, asker: Agent | None, agents: AgentRepository) -> Resolution:
    located = agents.locate(id_or_name)
    if located is None:
        raise NotFoundError("agent", id_or_name)
    agent = located.agent
    if asker is not None and agent.id == asker.id:
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


def _resolve_task(task_id: str, asker: Agent | None, agents: AgentRepository) -> Resolution:
    workers = agents.workers_of_task(task_id)
    if workers is None:
        raise NotFoundError("task", task_id)
    working = workers.agents
    candidates = [agent for agent in working if asker is None or agent.id != asker.id]
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


def _resolve_phase(phase_id: str, asker: Agent | None, agents: AgentRepository) -> Resolution:
    workers = agents.workers_in_phase(phase_id)
    if workers is None:
        raise NotFoundError("phase", phase_id)
    working = workers.agents
    candidates = [agent for agent in working if asker is None or agent.id != asker.id]
    if not candidates:
        other = "" if asker is None else " other than you"
        raise NotFoundError(
            "phase", phase_id, f"no active agent{other} is working on phase '{phase_id}'"
        )
    if len(candidates) > 1:
        listed = "; ".join(describe(agent) for agent in candidates)
        raise ConflictError(
            f"{len(candidates)} active agents work on phase '{phase_id}': {listed}. "
            "Ask one of them by agent (--agent) or by task (--task)."
        )
    agent = candidates[0]
    return Resolution(agent, agent.task_id, phase_id, workers.initiative_id)


def _resolve_file(
    target: FileTarget, asker: Agent, agents: AgentRepository, ownership: OwnershipRepository
) -> Resolution:
    """The agent of the asker's initiative whose unmerged work changed the file (with a
    line: whose change covers it), else the agent of the merged task that changed it
    last. Read from the ownership index (``OwnershipService``), never from git."""
    path = target.path
    initiative_id = initiative_of(asker, agents)
    owners = ownership.owners(path, initiative_id=initiative_id)
    others = [owner for owner in owners if owner.agent.id != asker.id]
    unmerged = _at_line(
        [o for o in others if not o.change.merged and is_active(o.agent)], target.line
    )
    if len(unmerged) > 1:
        listed = "; ".join(_describe_owner(owner) for owner in unmerged)
        raise ConflictError(
            f"the unmerged work of {len(unmerged)} agents changed '{path}': {listed}. "
            "Ask one of them by agent (--agent) or by task (--task)"
            + ("." if target.line is not None else ", or name a line (--file PATH:LINE).")
        )
    merged = _at_line([o for o in others if o.change.merged and is_active(o.agent)], target.line)
    chosen = unmerged or merged[:1]
    if chosen:
        owner = chosen[0]
        return Resolution(owner.agent, owner.change.task_id, owner.phase_id, initiative_id)
    raise _refusal(path, initiative_id, owners, others)


def initiative_of(agent: Agent, agents: AgentRepository) -> str:
    """The agent's initiative (its own, else its task's): where asking by file looks."""
    found = find_initiative_of(agent, agents)
    if found is None:
        raise PreconditionFailedError(
            f"agent {agent.name} ({agent.id}) belongs to no initiative; who changed a file "
            "is known within an initiative: ask by agent (--agent) or task (--task)"
        )
    return found


def find_initiative_of(agent: Agent, agents: AgentRepository) -> str | None:
    if agent.initiative_id is not None or agent.task_id is None:
        return agent.initiative_id
    located = agents.locate(agent.id)
    return None if located is None else located.task_initiative_id


def _at_line(owners: list[FileOwner], line: int | None) -> list[FileOwner]:
    """With a line, the owners whose change covers it (all of them if none does)."""
    if line is None:
        return owners
    covering = [owner for owner in owners if covers(owner.change.lines, line)]
    return covering or owners


def _refusal(
    path: str, initiative_id: str, owners: list[FileOwner], others: list[FileOwner]
) -> CrosswalkError:
    """Why nobody can answer for the file."""
    if others:  # changed it, but stopped or crashed since
        listed = "; ".join(_describe_owner(owner) for owner in others)
        return PreconditionFailedError(
            f"no agent that changed '{path}' can answer: {listed}. Resume one "
            "(cw agent resume NAME) or ask by task (--task)"
        )
    if owners:
        return InvalidInputError(
            f"only your own work changed '{path}'; an agent cannot ask itself", field="file"
        )
    return NotFoundError(
        "file",
        path,
        f"no agent of initiative '{initiative_id}' changed '{path}' (in unmerged work or "
        "a merged task); check the path (relative to the repository root) with: cw who "
        f"{path}",
    )


def _describe_owner(owner: FileOwner) -> str:
    agent, change = owner.agent, owner.change
    task = f", task '{change.task_id}'" if change.task_id else ""
    state = "merged" if change.merged else "unmerged"
    return f"{agent.name} ({agent.id}{task}, {agent.status.value}, {state})"
