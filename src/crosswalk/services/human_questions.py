"""Questions agents ask the person running crosswalk, and the person's replies.

Agents get stuck on decisions only a person can make. Such a question is a message from
the agent to the user (type ``question``, requiring a response); the agent waits for the
reply exactly as it waits for another agent's answer: push, through the change-stream
key ``reply:<messageId>``, published after the reply commits.

While an agent has an open question its row says so: status ``waiting_for_input`` and
``pendingQuestions`` listing each open question (``messageId``, ``text``, ``askedAt``).
Both are recomputed from the messages table after every change instead of being patched
(``AgentService.sync_open_questions``, in the same unit of work), so concurrent asks and
replies converge on what the messages say. The status follows the open questions, not a
connection: an agent whose ``cw`` wait timed out still has its question open, and is
still waiting for input, until the reply comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crosswalk.db.repositories import MessageRepository
from crosswalk.domain.enums import (
    MessageStatus,
    MessageType,
    ParticipantType,
)
from crosswalk.domain.errors import (
    ConflictError,
    ForbiddenError,
    LimitExceededError,
    PreconditionFailedError,
)
from crosswalk.domain.events import (
    Action,
    EntityChanged,
    UserQuestionAsked,
    UserQuestionReplied,
    UserQuestionWithdrawn,
    reply_key,
)
from crosswalk.domain.rows import Message, MessageUpdate, NewMessage, Removal, Task
from crosswalk.domain.wait_graph import PERSON
from crosswalk.services.agents import AgentService
from crosswalk.services.auth import Principal
from crosswalk.services.change_stream import ChangeStream, Subscription
from crosswalk.services.conversations import refuse_wait_cycle
from crosswalk.services.limits import Limits
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.unit_of_work import UnitOfWorkFactory

USER = ParticipantType.USER
AGENT = ParticipantType.AGENT


@dataclass(frozen=True, slots=True)
class ReplyState:
    """A question and the reply it got (``None`` while none has come)."""

    question: Message
    reply: Message | None

    @property
    def responded(self) -> bool:
        return self.question.status is MessageStatus.RESPONDED


def authorize_threaded(principal: Principal, parent: Message, kind: MessageType) -> None:
    """Who may write a message under ``parent``: the rule that keeps replies honest.

    The person's answers (``response`` under a message to the user) come only from
    the administrator; an agent answers (``response``) only messages addressed to
    it, and adds other messages only to threads it takes part in. Without this an
    agent could answer another agent's question to the person in the person's place.
    """
    me = principal.agent_id
    if me is None:
        return
    if kind is MessageType.RESPONSE:
        if parent.recipient_type is USER:
            raise ForbiddenError(
                f"message '{parent.id}' is addressed to the user; only the person (the "
                "admin token: cw reply) may respond to it"
            )
        if parent.recipient_id != me:
            raise ForbiddenError(
                f"message '{parent.id}' is addressed to agent '{parent.recipient_id}'; "
                f"agent '{me}' may respond only to messages addressed to it"
            )
        return
    principal.require_any(
        tuple(i for i in (parent.sender_id, parent.recipient_id) if i is not None),
        f"the thread of message '{parent.id}'",
    )


@dataclass(slots=True)
class HumanQuestionService:
    messages: MessageRepository
    agents: AgentService
    unit_of_work: UnitOfWorkFactory
    changes: ChangeStream
    limits: Limits = field(default_factory=Limits)
    offload: Offload = field(default_factory=InlineOffload)  # where the wait's reads run

    def ask(self, agent_id: str, text: str, *, id: str | None = None) -> Message:
        """Record the agent's question to the user; the agent is now waiting for input.

        A retried ask with the same client-chosen ``id`` returns the stored question."""
        with self.unit_of_work():
            agent = self.agents.agents.get(agent_id)
            return self.send(
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

    def tell(self, agent_id: str, text: str, *, handed_over: bool) -> Message:
        """Record what the person tells the agent: a message from the user to it,
        ``read`` when it was ``handed_over`` already (as the prompt of a resumed run),
        else ``pending`` until the agent's next hook takes it (``CheckInService``)."""
        with self.unit_of_work():
            agent = self.agents.agents.get(agent_id)
            return self.send(
                NewMessage(
                    sender_type=USER,
                    recipient_type=AGENT,
                    recipient_id=agent.id,
                    content=text,
                    status=MessageStatus.READ if handed_over else MessageStatus.PENDING,
                )
            )

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
        with self.unit_of_work() as uow:
            message = self.messages.get(message_id)
            if message.recipient_type is not USER:
                raise PreconditionFailedError(
                    f"message '{message_id}' is addressed to agent '{message.recipient_id}', "
                    "not to the user; only messages to the user can be replied to this way"
                )
            if message.sender_type is AGENT and message.sender_id is None:
                raise PreconditionFailedError(
                    f"the agent that sent message '{message_id}' was deleted, so nobody "
                    "would receive a reply; delete the message or mark it read instead"
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
                    status=MessageStatus.READ
                    if message.sender_type is USER
                    else MessageStatus.PENDING,
                )
            )
            uow.record(
                UserQuestionReplied(question.id, question.sender_id),
                EntityChanged("message", reply.id, Action.CREATED),
            )
            if question.sender_id is not None:
                self.agents.sync_open_questions(uow, question.sender_id)
        return question, reply

    def send(self, data: NewMessage) -> Message:
        """Store a message. One from an agent to the person that needs a response is a
        question, however it was sent: it records ``UserQuestionAsked`` (the person's
        inbox hears of it) and the agent is waiting for input with it in
        ``pendingQuestions``.

        The replay rule: a client-chosen ``id`` already stored for the same sender and
        content returns the stored message and changes nothing (the first send told
        everyone); with another sender or content it is ``ConflictError``."""
        with self.unit_of_work() as uow:
            if data.id is not None:
                uow.serialize("messages", data.id)  # a racing retry replays (see ask)
                stored = self.messages.find_by_id(data.id)
                if stored is not None:
                    return _replayed(stored, data)
            asks = data.recipient_type is USER and data.requires_response
            asker = data.sender_id if data.sender_type is AGENT else None
            if asks and asker is not None:
                self._check_question_cap(asker)
                # The person may be waiting for this agent's answer: then neither could
                # ever go on (wait_graph).
                refuse_wait_cycle(self.agents.conversations, self.agents.agents, asker, PERSON)
            message = self.messages.create(data)
            uow.record(EntityChanged("message", message.id, Action.CREATED))
            if asks and asker is not None:
                uow.record(UserQuestionAsked(message.id, asker))
                self.agents.sync_open_questions(uow, asker, asking=True)
            elif asks and data.sender_type is USER:  # crosswalk's own question
                uow.record(UserQuestionAsked(message.id, None))
        return message

    def ask_about_task(self, task_id: str, text: str) -> Message:
        """crosswalk's own question to the person about the task (a checkpoint to carry
        out, work that could not start or merge, an agent that stopped): in the inbox
        until replied to or until the task moves on (``close_own_questions``). Joins the
        caller's unit of work; ``PlanningService.move_and_ask`` asks it with the move
        that calls for it."""
        return self.send(
            NewMessage(
                sender_type=USER,
                recipient_type=USER,
                type=MessageType.QUESTION,
                content=text,
                requires_response=True,
                task_id=task_id,
            )
        )

    def close_own_questions(self, task: Task, gone: bool = False) -> list[Message]:
        """crosswalk's own open questions about ``task`` (a checkpoint to carry out,
        a merge that conflicted, an agent that could not start, stopped or crashed) are
        asked when the task reaches a state only the person can move it out of; once
        it has moved (the agent resumed, the task dispatched again, completed or
        deleted) their cause is resolved. Each is closed with a note in its thread
        saying where the task went; the questions agents asked stay as they are.
        Joins the caller's unit of work (``PlanningService`` calls it with the move)."""
        where = "was deleted" if gone else f"is now {task.status.value}"
        closed = []
        with self.unit_of_work() as uow:
            for question in self.messages.find_requiring_response(task_id=task.id):
                if question.sender_type is not USER:
                    continue
                question, note = self.messages.reply(
                    NewMessage(
                        sender_type=USER,
                        recipient_type=USER,
                        type=MessageType.RESPONSE,
                        content=f"Closed by crosswalk: task '{task.name}' ({task.id}) {where}.",
                        parent_message_id=question.id,
                        status=MessageStatus.READ,
                    )
                )
                uow.record(
                    UserQuestionReplied(question.id, None),
                    EntityChanged("message", question.id, Action.UPDATED),
                    EntityChanged("message", note.id, Action.CREATED),
                )
                closed.append(question)
        return closed

    def _check_question_cap(self, agent_id: str) -> None:
        agent = self.agents.agents.get(agent_id)
        cap = self.limits.max_pending_questions
        if len(agent.pending_questions or []) >= cap:
            raise LimitExceededError(
                f"agent '{agent.name}' already has {cap} unanswered questions to the "
                "user, the cap (setting CW_MAX_PENDING_QUESTIONS); wait for replies "
                "before asking more"
            )

    def mark_read(self, message: Message) -> Message:
        """pending -> read; a message already read or responded to stays as it is."""
        if message.status is not MessageStatus.PENDING:
            return message
        with self.unit_of_work() as uow:
            read = self.messages.update(message.id, {"status": MessageStatus.READ})
            uow.record(EntityChanged("message", message.id, Action.UPDATED))
        return read

    def handed_over(self, state: ReplyState, agent_id: str | None) -> ReplyState:
        """``state`` as given to the agent ``agent_id`` waiting for it: a reply to that
        agent is read now, so its hooks do not hand it over a second time."""
        reply = state.reply
        if reply is None or agent_id is None or reply.recipient_id != agent_id:
            return state
        return ReplyState(state.question, self.mark_read(reply))

    def update(self, message_id: str, changes: MessageUpdate) -> Message:
        """Change a message; a status or ``requiresResponse`` change may open or close
        its sender's question, so the sender's open questions are synced with it."""
        with self.unit_of_work() as uow:
            message = self.messages.update(message_id, changes)
            uow.record(EntityChanged("message", message.id, Action.UPDATED))
            if message.sender_id is not None:
                self.agents.sync_open_questions(uow, message.sender_id)
        return message

    def state(self, message_id: str) -> ReplyState:
        """The question and, once responded, the user's reply to it.

        Only a message from the user counts as the reply to a question to the user:
        whatever else sits in the thread is never handed to the waiting agent."""
        question = self.messages.get(message_id)
        reply = None
        if question.status is MessageStatus.RESPONDED:
            replies = [
                m
                for m in self.messages.find_replies(question.id)
                if question.recipient_type is not USER or m.sender_type is USER
            ]
            reply = next((m for m in replies if m.type is MessageType.RESPONSE), None)
            reply = reply or (replies[0] if replies else None)
        return ReplyState(question, reply)

    async def wait_for_reply(self, message_id: str, timeout_s: float) -> ReplyState:
        """The question once responded to, or as it stands when ``timeout_s`` passes
        (or the server shuts down: the client then reconnects to the next one)."""

        async def read(_: Subscription) -> ReplyState:
            return await self.offload(self.state, message_id)

        return await self.changes.wait_until(
            [reply_key(message_id)],
            read,
            done=lambda state: state.responded,
            timeout_s=timeout_s,
        )

    def delete(self, message_id: str) -> tuple[Message, Removal]:
        """Delete a message and its thread; agents that asked any of the deleted questions
        stop waiting for them, and whoever waits for a reply is woken (to find it gone)."""
        with self.unit_of_work() as uow:
            message = self.messages.get(message_id)
            gone = [message, *self.messages.find_thread(message_id)]
            removed = self.messages.delete(message_id)
            for m in gone:
                uow.record(
                    UserQuestionWithdrawn(m.id), EntityChanged("message", m.id, Action.DELETED)
                )
            for agent_id in sorted({m.sender_id for m in gone if m.sender_id is not None}):
                self.agents.sync_open_questions(uow, agent_id)
        return message, removed


def _replayed(stored: Message, data: NewMessage) -> Message:
    """A retried send returns what the first one stored; anything else is a clash."""
    if (stored.sender_type, stored.sender_id, stored.content) != (
        data.sender_type,
        data.sender_id,
        data.content,
    ):
        raise ConflictError(f"message '{stored.id}' already exists with other content")
    return stored
