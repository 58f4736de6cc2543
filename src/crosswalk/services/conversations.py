"""The headline feature: agents ask each other questions and wait for answers.

Reads and writes go through the repositories; every commit that can satisfy a
waiter is followed by a ``publish`` on the notifier, so waiting is push.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from crosswalk.db.repositories import (
    AgentRepository,
    ConversationRepository,
    PhaseRepository,
    TaskRepository,
)
from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import ForbiddenError, NotFoundError
from crosswalk.domain.rows import Agent, Conversation, NewConversation
from crosswalk.services.notifier import Notifier, answer_key, question_key
from crosswalk.services.targets import Target, resolve_target

MAX_TEXT_LENGTH = 100_000


@dataclass(slots=True)
class ConversationService:
    conversations: ConversationRepository
    agents: AgentRepository
    tasks: TaskRepository
    phases: PhaseRepository
    notifier: Notifier

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.find_by_id(agent_id)
        if agent is None:
            raise NotFoundError("agent", agent_id)
        return agent

    def ask(
        self, from_agent_id: str, question: str, target: Target, *, id: str | None = None
    ) -> Conversation:
        """Record a pending question to the resolved agent and wake its listeners.

        A retried ask with the same client-chosen ``id`` returns the stored
        conversation instead of asking twice.
        """
        if id is not None:
            existing = self.conversations.find_by_id(id)
            if existing is not None:
                # A retry: skip resolving the target again (it may have changed since)
                # and let the repository's replay rule decide, as for any create.
                return self.conversations.create(
                    NewConversation(
                        id=id,
                        from_agent_id=from_agent_id,
                        to_agent_id=existing.to_agent_id,
                        question=question,
                    )
                )
        asker = self._agent(from_agent_id)
        resolution = resolve_target(
            target, asker, agents=self.agents, tasks=self.tasks, phases=self.phases
        )
        conversation = self.conversations.create(
            NewConversation(
                id=id,
                from_agent_id=asker.id,
                to_agent_id=resolution.agent.id,
                question=question,
                initiative_id=resolution.initiative_id,
                phase_id=resolution.phase_id,
                task_id=resolution.task_id,
            )
        )
        self.notifier.publish(question_key(conversation.to_agent_id))
        return conversation

    def get(self, id: str) -> Conversation:
        return self.conversations.get(id)

    def abandon_questions_to(self, agent: Agent) -> list[Conversation]:
        """The agent stopped or crashed: every question still waiting for its answer
        ends ``abandoned`` with the reason, and each asker's wait ends at once."""
        reason = f"agent {agent.name} ({agent.id}) is {agent.status.value} and will not answer"
        abandoned = self.conversations.abandon_pending_to(agent.id, reason)
        for conversation in abandoned:
            self.notifier.publish(answer_key(conversation.id))
        return abandoned

    def pending(self, agent_id: str) -> list[Conversation]:
        return self.conversations.find_pending_for_agent(agent_id)

    def answer(self, id: str, answer: str, *, acting_agent_id: str | None = None) -> Conversation:
        """pending -> answered; only the addressed agent may answer (``acting_agent_id``
        None means an administrator). Wakes whoever waits for the answer."""
        if acting_agent_id is not None:
            conversation = self.conversations.get(id)
            if conversation.to_agent_id != acting_agent_id:
                raise ForbiddenError(
                    f"conversation '{id}' is addressed to agent '{conversation.to_agent_id}', "
                    f"not to '{acting_agent_id}'"
                )
        answered = self.conversations.answer(id, answer)
        self.notifier.publish(answer_key(id))
        return answered

    async def listen(self, agent_id: str, timeout_s: float) -> list[Conversation]:
        """The agent's pending questions: at once if there are any, else as soon as one
        arrives, else ``[]`` when ``timeout_s`` passes."""
        self._agent(agent_id)
        deadline = time.monotonic() + timeout_s
        async with self.notifier.subscribe(question_key(agent_id)) as subscription:
            while True:
                pending = self.conversations.find_pending_for_agent(agent_id)
                remaining = deadline - time.monotonic()
                if pending or remaining <= 0 or self.notifier.closed:
                    return pending
                await subscription.wait(remaining)

    async def wait_for_answer(
        self,
        id: str,
        timeout_s: float,
        *,
        check: Callable[[Conversation], None] | None = None,
    ) -> Conversation:
        """The conversation once answered (or abandoned), or as it stands when
        ``timeout_s`` passes.

        ``check`` sees the conversation as first read, before any waiting, and may
        refuse by raising (the caller's access check, without a read of its own).
        """
        deadline = time.monotonic() + timeout_s
        async with self.notifier.subscribe(answer_key(id)) as subscription:
            conversation = self.conversations.get(id)
            if check is not None:
                check(conversation)
            while True:
                remaining = deadline - time.monotonic()
                if (
                    conversation.status is not ConversationStatus.PENDING
                    or remaining <= 0
                    or self.notifier.closed
                ):
                    return conversation
                await subscription.wait(remaining)
                conversation = self.conversations.get(id)

    async def question_stream(
        self, agent_id: str, last_event_id: str | None = None
    ) -> AsyncIterator[Conversation]:
        """Every pending question for the agent, oldest first, then each new one as it
        arrives. Resuming after ``last_event_id`` skips what came before it; a question
        from the same millisecond may repeat (clients dedupe by id), none is lost.
        Ends when the notifier closes."""
        self._agent(agent_id)
        since = None
        if last_event_id is not None:
            last = self.conversations.find_by_id(last_event_id)
            since = last.created_at if last is not None else None
        sent: set[str] = {last_event_id} if last_event_id else set()
        async with self.notifier.subscribe(question_key(agent_id)) as subscription:
            while not self.notifier.closed:
                pending = self.conversations.find_pending_for_agent(agent_id)
                for conversation in pending:
                    if conversation.id in sent or (since and conversation.created_at < since):
                        continue
                    sent.add(conversation.id)
                    yield conversation
                # Answered questions never come back: forget them.
                sent.intersection_update(conversation.id for conversation in pending)
                await subscription.wait(3600.0)

    async def answer_stream(self, id: str) -> AsyncIterator[Conversation]:
        """The conversation once it is answered or abandoned (then the stream ends)."""
        async with self.notifier.subscribe(answer_key(id)) as subscription:
            while not self.notifier.closed:
                conversation = self.conversations.get(id)
                if conversation.status is not ConversationStatus.PENDING:
                    yield conversation
                    return
                await subscription.wait(3600.0)
