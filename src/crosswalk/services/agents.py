"""Agents: registration, updates, deletion, and the one writer of an agent's status.

Every change of an agent row goes through :meth:`AgentService.apply`, which records
``EntityChanged`` and, when the status moves, ``AgentStatusChanged``: so the status
has exactly one writer, whoever asks for the change (an administrator, the agent
itself, or the open-question bookkeeping of :meth:`sync_open_questions`).

Deleting an agent deletes its conversations (by cascade); the same unit of work
records a ``QuestionWithdrawn`` for each pending one, so whoever waits for an answer
from (or to) the agent hears at once that it was deleted. An agent that becomes
``stopped`` or ``crashed`` will not answer either: in the same unit of work the
questions waiting for it become ``abandoned`` with the reason
(``QuestionAbandoned``), so their askers' waits end at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Protocol

from crosswalk.db.repositories import (
    AgentRepository,
    ConversationRepository,
    MessageRepository,
)
from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    ENDED_AGENT_STATUSES,
    AgentStatus,
    ParticipantType,
)
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.events import (
    Action,
    AgentStatusChanged,
    EntityChanged,
    QuestionAbandoned,
    QuestionWithdrawn,
)
from crosswalk.domain.rows import Agent, AgentUpdate, NewAgent, Removal, Task
from crosswalk.domain.timestamps import to_iso
from crosswalk.services.auth import hash_token, new_token
from crosswalk.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


class TaskLookup(Protocol):
    """What the agent service needs of the task port (``TaskRepository`` has it)."""

    def get(self, id: str) -> Task: ...


@dataclass(slots=True)
class AgentService:
    agents: AgentRepository
    tasks: TaskLookup
    messages: MessageRepository
    conversations: ConversationRepository
    unit_of_work: UnitOfWorkFactory

    def find(self, id_or_name: str) -> Agent | None:
        """The agent with this id, else the one with this name (people type names; an
        id match wins, as in ``AgentRepository.locate``)."""
        return self.agents.find_by_id(id_or_name) or self.agents.find_by_name(id_or_name)

    def resolve(self, id_or_name: str) -> Agent:
        """:meth:`find`, or NOT_FOUND naming what was given."""
        agent = self.find(id_or_name)
        if agent is None:
            raise NotFoundError("agent", id_or_name)
        return agent

    def register(self, data: NewAgent) -> tuple[Agent, str]:
        """Create the agent with a fresh token (returned once, stored hashed). Without
        an initiative, an agent on a task works on the task's initiative."""
        token = new_token()
        return self.create(replace(data, token_hash=hash_token(token))), token

    def create(self, data: NewAgent) -> Agent:
        """Create the agent with the token hash given: none for an agent crosswalk's
        runner spawns, which holds a token only while a run of it lasts."""
        with self.unit_of_work() as uow:
            if data.initiative_id is None and data.task_id is not None:
                data = replace(data, initiative_id=self.tasks.get(data.task_id).initiative_id)
            agent = self.agents.create(data)
            uow.record(EntityChanged("agent", agent.id, Action.CREATED))
        return agent

    def update(self, agent_id: str, changes: AgentUpdate) -> Agent:
        with self.unit_of_work() as uow:
            return self.apply(uow, self.agents.get(agent_id), changes)

    def rotate_token(self, agent_id: str) -> tuple[Agent, str]:
        token = new_token()
        with self.unit_of_work() as uow:
            agent = self.apply(uow, self.agents.get(agent_id), {"token_hash": hash_token(token)})
        return agent, token

    def delete(self, agent_id: str) -> tuple[Agent, Removal]:
        """Delete the agent (its conversations and proposals go with it, its messages
        are detached); everyone waiting on one of its conversations is told why."""
        with self.unit_of_work() as uow:
            agent = self.agents.get(agent_id)
            reason = f"agent {agent.name} ({agent.id}) was deleted"
            withdrawn = [
                QuestionWithdrawn(c.id, c.from_agent_id, c.to_agent_id, reason)
                for c in self.conversations.find_pending_involving(agent.id)
            ]
            removed = self.agents.delete(agent.id)
            uow.record(*withdrawn, EntityChanged("agent", agent.id, Action.DELETED))
        return agent, removed

    def apply(self, uow: UnitOfWork, agent: Agent, changes: AgentUpdate) -> Agent:
        """The one way an agent row changes, inside ``uow``: the update and its events."""
        updated = self.agents.update(agent.id, changes)
        uow.record(EntityChanged("agent", updated.id, Action.UPDATED))
        if updated.status is not agent.status:
            uow.record(AgentStatusChanged(updated.id, updated.status))
        if updated.status in ENDED_AGENT_STATUSES:
            reason = (
                f"agent {updated.name} ({updated.id}) is {updated.status.value} and will not answer"
            )
            uow.record(
                *(
                    QuestionAbandoned(c.id, c.from_agent_id, c.to_agent_id)
                    for c in self.conversations.abandon_pending_to(updated.id, reason)
                )
            )
        return updated

    def sync_open_questions(
        self, uow: UnitOfWork, agent_id: str, *, asking: bool = False
    ) -> Agent | None:
        """Make the agent's ``pendingQuestions`` and status match its open questions to
        the person, inside ``uow``.

        With open questions an active agent (or one asking right now) is
        ``waiting_for_input``; with none left, a waiting agent is ``running`` again. A
        stopped or crashed agent keeps its status. Returns the agent (None if gone).
        """
        agent = self.agents.find_by_id(agent_id)
        if agent is None:
            return None
        open_questions = [
            m
            for m in self.messages.find_requiring_response(sender_id=agent_id)
            if m.recipient_type is ParticipantType.USER
        ]
        pending: list[dict[str, Any]] | None = [
            {"messageId": m.id, "text": m.content, "askedAt": to_iso(m.created_at)}
            for m in open_questions
        ] or None
        changes: AgentUpdate = {}
        if agent.pending_questions != pending:
            changes["pending_questions"] = pending
        if pending and (asking or agent.status in ACTIVE_AGENT_STATUSES):
            if agent.status is not AgentStatus.WAITING_FOR_INPUT:
                changes["status"] = AgentStatus.WAITING_FOR_INPUT
        elif not pending and agent.status is AgentStatus.WAITING_FOR_INPUT:
            changes["status"] = AgentStatus.RUNNING
        if not changes:
            return agent
        try:
            return self.apply(uow, agent, changes)
        except NotFoundError:
            return None  # deleted meanwhile: nothing left to keep in sync
