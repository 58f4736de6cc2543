"""The headline feature: agents ask each other questions and wait for answers.

Every change runs in a unit of work that records its event (``QuestionAsked``,
``QuestionAnswered``); the change stream delivers it after the commit, so waiting is
push. A conversation withdrawn because an agent was deleted, or abandoned because
the agent asked stopped or crashed (``crosswalk.services.agents``), ends its waiters
at once with the reason. An ask that would close a wait cycle is refused here, in the
inserting unit of work under the wait graph's lock (``refuse_wait_cycle``,
``crosswalk.domain.wait_graph``); so is an answer from an agent the question is not
addressed to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field

from crosswalk.db.repositories import (
    AgentRepository,
    AnswerDeliveryRepository,
    ConversationRepository,
    OwnershipRepository,
)
from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    LimitExceededError,
    NotFoundError,
    WaitCycleError,
)
from crosswalk.domain.events import (
    Action,
    EntityChanged,
    QuestionAnswered,
    QuestionAsked,
    QuestionWithdrawn,
    answer_key,
    entity_key,
    question_key,
)
from crosswalk.domain.rows import Agent, Conversation, NewConversation
from crosswalk.domain.wait_graph import PERSON, describe_wait_cycle, find_wait_cycle
from crosswalk.services.change_stream import ChangeStream, Subscription
from crosswalk.services.limits import Limits
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.targets import Target, resolve_target
from crosswalk.services.unit_of_work import UnitOfWorkFactory

MAX_TEXT_LENGTH = 100_000


@dataclass(frozen=True, slots=True)
class Asked:
    conversation: Conversation
    answerer: Agent | None  # as resolved for this ask; None when it replayed a stored one


@dataclass(slots=True)
class ConversationService:
    conversations: ConversationRepository
    agents: AgentRepository
    unit_of_work: UnitOfWorkFactory
    changes: ChangeStream
    #: Where ``ask(..., deliver_answer=True)`` records that the asker's hooks bring the
    #: answer (``crosswalk.services.check_in``); without it such asks are refused.
    answer_deliveries: AnswerDeliveryRepository | None = None
    #: Who changed which file, for questions asked by file; without it those are refused.
    ownership: OwnershipRepository | None = None
    limits: Limits = field(default_factory=Limits)
    offload: Offload = field(default_factory=InlineOffload)  # where the waits' reads run

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.find_by_id(agent_id)
        if agent is None:
            raise NotFoundError("agent", agent_id)
        return agent

    def ask(
        self,
        from_agent_id: str | None,
        question: str,
        target: Target,
        *,
        id: str | None = None,
        deliver_answer: bool = False,
        asker: Agent | None = None,
    ) -> Conversation:
        """``ask_of``, for callers that need only the conversation."""
        return self.ask_of(
            from_agent_id, question, target, id=id, deliver_answer=deliver_answer, asker=asker
        ).conversation

    def ask_of(
        self,
        from_agent_id: str | None,
        question: str,
        target: Target,
        *,
        id: str | None = None,
        deliver_answer: bool = False,
        asker: Agent | None = None,
    ) -> Asked:
        """Record a pending question to the resolved agent and wake its listeners; the
        conversation and the agent asked, as the question found it (None on a replay).
        ``from_agent_id`` None: the person asks (the administrator, ``cw ask --agent``).

        A retried ask with the same client-chosen ``id`` returns the stored
        conversation instead of asking twice; the same ``id`` with another asker or
        question is ``ConflictError``. The check and the insert share one unit of work.
        With ``deliver_answer`` (the asker will not wait) the answer is also to be handed
        to the asker's hooks, once. ``asker`` is the asking agent's row when the caller
        has just read it (its token's agent): it is not read again.
        """
        if deliver_answer and self.answer_deliveries is None:
            raise InvalidInputError("this server does not deliver answers through hooks")
        if deliver_answer and from_agent_id is None:
            raise InvalidInputError(
                "the person has no hooks to deliver an answer to; wait for it with "
                "'cw wait CONVERSATION_ID'",
                field="deliverAnswer",
            )
        with self.unit_of_work() as uow:
            if id is not None:
                # A retry racing the original on another server waits for it here,
                # then finds the stored row and replays it.
                uow.serialize("conversations", id)
                stored = self.conversations.find_by_id(id)
                if stored is not None:
                    # A retry: the first ask already told everyone; the target is not
                    # resolved again (it may have changed since).
                    return Asked(_replayed(stored, from_agent_id, question), None)
            if from_agent_id is None:
                asker = None
            elif asker is None or asker.id != from_agent_id:
                asker = self._agent(from_agent_id)
            resolution = resolve_target(target, asker, agents=self.agents, ownership=self.ownership)
            if asker is not None:
                self._within_cap(asker, resolution.agent)
            refuse_wait_cycle(
                self.conversations, self.agents, from_agent_id or PERSON, resolution.agent.id
            )
            conversation = self.conversations.create(
                NewConversation(
                    id=id,
                    from_agent_id=from_agent_id,
                    to_agent_id=resolution.agent.id,
                    question=question,
                    initiative_id=resolution.initiative_id,
                    phase_id=resolution.phase_id,
                    task_id=resolution.task_id,
                    target_kind=target.kind,
                )
            )
            if deliver_answer and self.answer_deliveries is not None and asker is not None:
                self.answer_deliveries.expect(conversation.id, asker.id)
            uow.record(
                QuestionAsked(conversation.id, conversation.from_agent_id, conversation.to_agent_id)
            )
        return Asked(conversation, resolution.agent)

    def _within_cap(self, asker: Agent, target: Agent) -> None:
        """One agent may not bury another: at most ``max_pending_questions`` open
        questions from one asker to one target (checked before the insert, so two
        asks racing at the cap may both pass: the cap bounds a flood, not a count)."""
        cap = self.limits.max_pending_questions
        if self.conversations.count_pending_between(asker.id, target.id) >= cap:
            raise LimitExceededError(
                f"agent '{asker.name}' already has {cap} unanswered questions to agent "
                f"'{target.name}', the cap (setting CW_MAX_PENDING_QUESTIONS); wait for "
                "answers before asking more"
            )

    def get(self, id: str) -> Conversation:
        return self.conversations.get(id)

    def pending(self, agent_id: str, *, after_id: str | None = None) -> list[Conversation]:
        """One page (``limits.page_size``) of the agent's pending questions, oldest
        first; ``after_id`` (the last one of the previous page) gives the next."""
        return self.conversations.find_pending_for_agent(
            agent_id, after_id=after_id, limit=self.limits.page_size
        )

    def answer(self, id: str, answer: str, *, acting_agent_id: str | None = None) -> Conversation:
        """pending -> answered; only the addressed agent may answer (``acting_agent_id``
        None means an administrator). Wakes whoever waits for the answer."""
        with self.unit_of_work() as uow:
            answered = self.conversations.answer(id, answer, addressed_to=acting_agent_id)
            if answered is None:
                raise self._why_not_answered(id, acting_agent_id)
            uow.record(
                QuestionAnswered(
                    answered.id, answered.from_agent_id, answered.to_agent_id, answered
                )
            )
        return answered

    def _why_not_answered(self, id: str, acting_agent_id: str | None) -> Exception:
        """Why the conditional answer changed nothing, read only once it has: who may
        not answer hears that before whether it is answered."""
        current = self.conversations.find_by_id(id)
        if current is None:
            return NotFoundError("conversation", id)
        if acting_agent_id is not None and current.to_agent_id != acting_agent_id:
            return ForbiddenError(
                f"conversation '{id}' is addressed to agent '{current.to_agent_id}', "
                f"not to '{acting_agent_id}'"
            )
        if current.status is ConversationStatus.ABANDONED:
            return ConflictError(
                f"conversation '{id}' was abandoned ({current.abandoned_reason}); "
                "nobody waits for its answer any more"
            )
        return ConflictError(f"conversation '{id}' is already answered")

    async def listen(
        self,
        agent_id: str,
        timeout_s: float,
        *,
        after_id: str | None = None,
        agent: Agent | None = None,
    ) -> list[Conversation]:
        """A page of the agent's pending questions (as ``pending``): at once if there
        are any, else as soon as one arrives, else ``[]`` when ``timeout_s`` passes.
        ``agent``: its row when the caller has just read it (NOT_FOUND is checked only
        otherwise)."""
        if agent is None or agent.id != agent_id:
            await self.offload(self._agent, agent_id)

        async def read(subscription: Subscription) -> list[Conversation]:
            _raise_if_agent_deleted(subscription, agent_id)
            return await self.offload(self.pending, agent_id, after_id=after_id)

        keys = (question_key(agent_id), entity_key("agent", agent_id))
        return await self.changes.wait_until(keys, read, done=bool, timeout_s=timeout_s)

    async def wait_for_answer(
        self,
        id: str,
        timeout_s: float,
        *,
        check: Callable[[Conversation], None] | None = None,
    ) -> Conversation:
        """The conversation once answered (or abandoned), or as it stands when ``timeout_s``
        passes.

        ``check`` sees the conversation as first read, before any waiting, and may
        refuse by raising (the caller's access check, without a read of its own).
        """
        first = True

        async def read(subscription: Subscription) -> Conversation:
            nonlocal first
            if first:
                first = False
                conversation = await self.offload(self.conversations.get, id)
                if check is not None:
                    check(conversation)
                return conversation
            answered = _answered_row(subscription, id)
            if answered is not None:
                return answered
            found = await self.offload(self.conversations.find_by_id, id)
            return _still_there(found, id, subscription)

        return await self.changes.wait_until(
            [answer_key(id)], read, done=_ended, timeout_s=timeout_s
        )

    async def question_stream(
        self, agent_id: str, last_event_id: str | None = None
    ) -> AsyncIterator[Conversation]:
        """Every pending question for the agent, oldest first, then each new one as it
        arrives. Resuming after ``last_event_id`` skips what came before it; a question
        from the same millisecond may repeat (clients dedupe by id), none is lost.
        Ends when the change stream closes."""
        await self.offload(self._agent, agent_id)
        since = None
        if last_event_id is not None:
            last = await self.offload(self.conversations.find_by_id, last_event_id)
            since = last.created_at if last is not None else None
        sent: set[str] = {last_event_id} if last_event_id else set()
        page_size = self.limits.page_size
        # Pages are read after ``anchor``; it moves only past a full page, so a wake
        # re-reads the last (short) page and finds what arrived since, never the
        # whole backlog.
        anchor: str | None = None

        async def read(subscription: Subscription) -> list[Conversation]:
            """What is new since the last read, page by page up to the last (short) one."""
            nonlocal anchor, sent
            _raise_if_agent_deleted(subscription, agent_id)
            new: list[Conversation] = []
            while True:
                page = await self.offload(
                    self.conversations.find_pending_for_agent,
                    agent_id,
                    after_id=anchor,
                    limit=page_size,
                )
                for conversation in page:
                    if conversation.id in sent or (since and conversation.created_at < since):
                        continue
                    sent.add(conversation.id)
                    new.append(conversation)
                if len(page) < page_size:
                    # Answered questions never come back: forget them.
                    sent.intersection_update(conversation.id for conversation in page)
                    return new
                anchor, sent = page[-1].id, set()

        keys = (question_key(agent_id), entity_key("agent", agent_id))
        async with aclosing(self.changes.watch(keys, read)) as reads:
            async for new in reads:
                for conversation in new:
                    yield conversation

    async def answer_stream(self, id: str) -> AsyncIterator[Conversation]:
        """The conversation once it is answered or abandoned (then the stream ends)."""

        async def read(subscription: Subscription) -> Conversation:
            found = await self.offload(self.conversations.find_by_id, id)
            return _still_there(found, id, subscription)

        async with aclosing(self.changes.watch([answer_key(id)], read)) as reads:
            async for conversation in reads:
                if _ended(conversation):
                    yield conversation
                    return


def _ended(conversation: Conversation) -> bool:
    """Answered or abandoned: nobody need wait for it any longer."""
    return conversation.status is not ConversationStatus.PENDING


def refuse_wait_cycle(
    conversations: ConversationRepository, agents: AgentRepository, asker: str, asked: str
) -> None:
    """``WaitCycleError`` when ``asked`` already waits, through any chain of pending
    questions (to agents or to the person, ``PERSON``), for ``asker``: then nobody on the
    cycle could ever answer. Called inside the unit of work that makes ``asker`` wait
    (an ask, an agent's question to the person), before its write: the graph's lock is
    taken first and held to the commit, so asks closing a cycle at the same moment
    cannot all get through."""
    conversations.lock_wait_graph()
    cycle = find_wait_cycle(asker, asked, conversations.waits_of)
    if cycle is None:
        return
    names = {}
    for edge in cycle:
        agent = None if edge.asker == PERSON else agents.find_by_id(edge.asker)
        if agent is not None:
            names[agent.id] = agent.name
    raise WaitCycleError(describe_wait_cycle(cycle, names))


def _answered_row(subscription: Subscription, id: str) -> Conversation | None:
    """The answered row a ``QuestionAnswered`` of this process brought, if that is what
    woke the waiter (other servers' events carry none: the row is read then)."""
    for event in reversed(subscription.received):
        if isinstance(event, QuestionAnswered) and event.conversation_id == id:
            return event.conversation
    return None


def _still_there(found: Conversation | None, id: str, subscription: Subscription) -> Conversation:
    """The conversation re-read after a wake-up; gone, it ends the wait with the reason
    its withdrawal gave (``agent ... was deleted``) when one did."""
    if found is not None:
        return found
    for event in subscription.received:
        if isinstance(event, QuestionWithdrawn) and event.conversation_id == id:
            raise NotFoundError(
                "conversation", id, f"conversation '{id}' ended unanswered: {event.reason}"
            )
    raise NotFoundError("conversation", id)


def _raise_if_agent_deleted(subscription: Subscription, agent_id: str) -> None:
    for event in subscription.received:
        if (
            isinstance(event, EntityChanged)
            and event.entity == "agent"
            and event.id == agent_id
            and event.action is Action.DELETED
        ):
            raise NotFoundError("agent", agent_id, f"agent '{agent_id}' was deleted")


def _replayed(stored: Conversation, from_agent_id: str | None, question: str) -> Conversation:
    """The replay rule of a client-chosen id: the same request gets the stored row."""
    if (stored.from_agent_id, stored.question) != (from_agent_id, question):
        raise ConflictError(
            f"conversation '{stored.id}' already exists with another asker or question"
        )
    return stored
