"""Questions agents ask the person running crosswalk, and the person's replies.

Agents get stuck on decisions only a person can make. Such a question is a message
from the agent to the user (type ``question``, requiring a response); the agent waits
for the reply exactly as it waits for another agent's answer: push, through the
notifier key ``reply:<messageId>``, published after the reply commits.

While an agent has an open question its row says so: status ``waiting_for_input`` and
``pendingQuestions`` listing each open question (``messageId``, ``text``, ``askedAt``).
Both are recomputed from the messages table after every change instead of being
patched, so concurrent asks and replies converge on what the messages say. The status
follows the open questions, not a connection: an agent whose ``cw`` wait timed out still
has its question open, and is still waiting for input, until the reply comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crosswalk.db.repositories import AgentRepository, MessageRepository
from crosswalk.domain.enums import (
    ACTIVE_AGENT_STATUSES,
    AgentStatus,
    MessageStatus,
    MessageType,
    ParticipantType,
)
from crosswalk.domain.errors import NotFoundError, PreconditionFailedError
from crosswalk.domain.rows import Agent, AgentUpdate, Message, NewMessage, Removal
from crosswalk.domain.timestamps import to_iso
from crosswalk.services.notifier import Notifier

USER = ParticipantType.USER
AGENT = ParticipantType.AGENT


def reply_key(message_id: str) -> str:
    """The notifier key a waiter for the reply to ``message_id`` parks on."""
    return f"reply:{message_id}"


@dataclass(frozen=True, slots=True)
class ReplyState:
    """A question and the reply it got (``None`` while none has come)."""

    question: Message
    reply: Message | None

    @property
    def responded(self) -> bool:
        return self.question.status is MessageStatus.RESPONDED


@dataclass(slots=True)
class HumanQuestionService:
    messages: MessageRepository
    agents: AgentRepository
    notifier: Notifier
    #: Told of every reply to a question about a task (a checkpoint completes).
    on_task_reply: Callable[[Message], object] | None = None

    def ask(self, agent_id: str, text: str, *, id: str | None = None) -> Message:
        """Record the agent's question to the user; the agent is now waiting for input.

        A retried ask with the same client-chosen ``id`` returns the stored question."""
        agent = self.agents.get(agent_id)
        question = self.messages.create(
            NewMessage(
                id=id,
                sender_type=AGENT,
                sender_id=agent.id,
                recipient_type=USER,
                type=MessageType.QUESTION,
                content=text,
                requires_response=True,
            )
        )
        self.sync_agent(agent.id, asking=True)
        return question

    def inbox(self) -> list[Message]:
        """Every message waiting for the user, oldest first: those still unread, and
        those that need a response even if already read."""
        waiting = {m.id: m for m in self.messages.find_pending_for_user()}
        for message in self.messages.find_requiring_response():
            if message.recipient_type is USER:
                waiting.setdefault(message.id, message)
        return sorted(waiting.values(), key=lambda m: (m.created_at, m.id))

    def reply(self, message_id: str, text: str) -> tuple[Message, Message]:
        """The user answers a message addressed to them: a ``response`` threaded under it,
        the message marked ``responded`` (once: a second reply is a ``ConflictError``),
        the asking agent's open questions updated, and its waiting request woken."""
        message = self.messages.get(message_id)
        if message.recipient_type is not USER:
            raise PreconditionFailedError(
                f"message '{message_id}' is addressed to agent '{message.recipient_id}', "
                "not to the user; only messages to the user can be replied to this way"
            )
        if message.sender_type is AGENT and message.sender_id is None:
            raise PreconditionFailedError(
                f"the agent that sent message '{message_id}' was deleted, so nobody would "
                "receive a reply; delete the message or mark it read instead"
            )
        question, reply = self.messages.reply(
            NewMessage(
                sender_type=USER,
                recipient_type=message.sender_type,
                recipient_id=message.sender_id,
                type=MessageType.RESPONSE,
                content=text,
                parent_message_id=message.id,
                # crosswalk's own questions (checkpoints, conflicts) are sent as the
                # user: the reply goes back to the user, who wrote it, so it is read.
                status=MessageStatus.READ if message.sender_type is USER else MessageStatus.PENDING,
            )
        )
        if question.sender_id is not None:
            self.sync_agent(question.sender_id)
        if question.task_id is not None and self.on_task_reply is not None:
            self.on_task_reply(question)
        self.notifier.publish(reply_key(question.id))
        return question, reply

    def state(self, message_id: str) -> ReplyState:
        """The question and, once responded, the user's reply to it."""
        question = self.messages.get(message_id)
        reply = None
        if question.status is MessageStatus.RESPONDED:
            replies = self.messages.find_replies(question.id)
            reply = next((m for m in replies if m.type is MessageType.RESPONSE), None)
            reply = reply or (replies[0] if replies else None)
        return ReplyState(question, reply)

    async def wait_for_reply(self, message_id: str, timeout_s: float) -> ReplyState:
        """The question once responded to, or as it stands when ``timeout_s`` passes
        (or the server shuts down: the client then reconnects to the next one)."""
        deadline = time.monotonic() + timeout_s
        async with self.notifier.subscribe(reply_key(message_id)) as subscription:
            while True:
                state = self.state(message_id)
                remaining = deadline - time.monotonic()
                if state.responded or remaining <= 0 or self.notifier.closed:
                    return state
                await subscription.wait(remaining)

    def delete(self, message_id: str) -> tuple[Message, Removal]:
        """Delete a message and its thread; agents that asked any of the deleted questions
        stop waiting for them, and whoever waits for a reply is woken (to find it gone)."""
        message = self.messages.get(message_id)
        gone = [message, *self.messages.find_thread(message_id)]
        removed = self.messages.delete(message_id)
        for agent_id in sorted({m.sender_id for m in gone if m.sender_id is not None}):
            self.sync_agent(agent_id)
        for m in gone:
            self.notifier.publish(reply_key(m.id))
        return message, removed

    def sync_agent(self, agent_id: str, *, asking: bool = False) -> Agent | None:
        """Make the agent's ``pendingQuestions`` and status match its open questions.

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
            if m.recipient_type is USER
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
            return self.agents.update(agent_id, changes)
        except NotFoundError:
            return None  # deleted meanwhile: nothing left to keep in sync
