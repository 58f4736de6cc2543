"""An agent's hooks check in: report what the agent is doing, collect what waits for it.

``cw hook`` calls ``agent.checkIn`` at every hook event of Claude Code or Codex (after each
tool call, at each prompt, at start and at stop; docs/hooks.md), so this is one cheap
round trip: the agent's row, its pending questions and, when asked for, the answers to its
``--no-wait`` questions that arrived since the last delivery, what the person told it
(``cw tell``), and the notices that another agent's unmerged work changed a file its
work changed (each handed out once).

The agent's status is decided here, in one place, and written only when it changes:

- a tool call or a prompt means ``running``; a stop with no question pending means
  ``idle`` (with questions pending the agent is kept going by the Stop hook);
- only ``idle`` and ``running`` are the hooks' to change: ``waiting_for_input`` belongs to
  the agent's open questions to the person (``HumanQuestionService``), ``stopped`` and
  ``crashed`` to whoever stopped it;
- an agent whose process crosswalk's runner supervises is left alone: the runner is the
  single writer of its status while it runs (``runner_owns_status``);
- an agent registered by hand whose hooks go quiet while it is ``running`` is marked
  ``idle`` after a while (``crosswalk.services.idle_watch``, told here of its activity).

A change (answers marked delivered, the person's messages marked read, a new status) is
one unit of work, and the status
goes through ``AgentService.apply``, the one way an agent row changes; a check-in that
changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from crosswalk.db.repositories import (
    AnswerDeliveryRepository,
    ConversationRepository,
    MessageRepository,
    OwnershipRepository,
    TaskRepository,
)
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.domain.enums import HOOK_MANAGED_AGENT_STATUSES, LIVE_AGENT_STATUSES, AgentStatus
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Agent, Conversation, Message, OverlapNotice, Task
from crosswalk.services.agents import AgentService
from crosswalk.services.unit_of_work import UnitOfWorkFactory


class Activity(StrEnum):
    """What just happened in the agent's CLI, as its hook reports it."""

    SESSION_START = "session_start"
    PROMPT = "prompt"
    TOOL = "tool"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What a hook needs: who the agent is now, what it is asked, what it was answered,
    what the person told it."""

    agent: Agent
    task: Task | None
    questions: list[Conversation]
    answers: list[Conversation]
    messages: list[Message] = field(default_factory=list)
    overlaps: list[OverlapNotice] = field(default_factory=list)


def runner_owns_status(agent: Agent) -> bool:
    """Whether crosswalk's runner supervises the agent's process right now: only the
    runner records ``processStartedAt`` (when it starts the process; an agent registered
    by hand never has one), and a run it follows is ``running`` or ``waiting_for_input``
    until the runner records its end (docs/runner.md)."""
    return agent.process_started_at is not None and agent.status in LIVE_AGENT_STATUSES


def status_after(activity: Activity | None, *, questions_pending: bool) -> AgentStatus | None:
    """The status an activity implies, or ``None`` when it implies none."""
    if activity in (Activity.TOOL, Activity.PROMPT):
        return AgentStatus.RUNNING
    if activity is Activity.STOP and not questions_pending:
        return AgentStatus.IDLE
    return None


#: What a hook reports while the agent works (a stop is the end, not activity).
ACTIVITY = frozenset({Activity.SESSION_START, Activity.PROMPT, Activity.TOOL})


@dataclass(slots=True)
class CheckInService:
    agents: AgentService
    tasks: TaskRepository
    conversations: ConversationRepository
    answer_deliveries: AnswerDeliveryRepository
    messages: MessageRepository
    unit_of_work: UnitOfWorkFactory
    #: Where the overlap notices wait (``crosswalk.services.ownership``); None: none do.
    ownership: OwnershipRepository | None = None
    #: Told of the activity of agents registered by hand, which go idle when their
    #: hooks go quiet (``crosswalk.services.idle_watch``).
    on_activity: Callable[[str], None] | None = None
    clock: Clock = SYSTEM_CLOCK  # when overlap notices count as delivered

    def check_in(
        self,
        agent_id: str,
        activity: Activity | None = None,
        *,
        take_answers: bool = False,
        take_messages: bool = False,
        with_task: bool = False,
    ) -> CheckIn:
        """Report ``activity`` and return the agent's pending questions; with
        ``take_answers``, also its undelivered answers and overlap notices, which count
        as delivered now; with ``take_messages``, what the person told it, which counts
        as read now (of two check-ins at once, each message goes to one)."""
        agent = self.agents.resolve(agent_id)
        if (
            self.on_activity is not None
            and activity in ACTIVITY
            and agent.process_started_at is None
        ):
            self.on_activity(agent.id)
        questions = self.conversations.find_pending_for_agent(agent.id)
        answers = self.answer_deliveries.find_undelivered(agent.id) if take_answers else []
        overlaps = (
            self.ownership.undelivered_notices(agent.id)
            if take_answers and self.ownership is not None
            else []
        )
        told = self.messages.find_pending_from_user(agent.id) if take_messages else []
        wanted = self.status_to_report(agent, activity, questions_pending=bool(questions))
        messages: list[Message] = []
        if answers or overlaps or told or wanted is not None:
            with self.unit_of_work() as uow:
                if answers:
                    self.answer_deliveries.mark_delivered(agent.id, [a.id for a in answers])
                if overlaps and self.ownership is not None:
                    keys = [(notice.other_agent_id, notice.path) for notice in overlaps]
                    self.ownership.mark_notices_delivered(agent.id, keys, self.clock.now())
                if told:
                    messages = self.messages.mark_read([m.id for m in told])
                    uow.record(*(EntityChanged("message", m.id, Action.UPDATED) for m in messages))
                if wanted is not None:
                    agent = self.agents.apply(uow, agent, {"status": wanted})
        task = None
        if with_task and agent.task_id is not None:
            task = self.tasks.find_by_id(agent.task_id)
        return CheckIn(
            agent=agent,
            task=task,
            questions=questions,
            answers=answers,
            messages=messages,
            overlaps=overlaps,
        )

    def status_to_report(
        self, agent: Agent, activity: Activity | None, *, questions_pending: bool
    ) -> AgentStatus | None:
        """The status ``activity`` moves the agent to, or ``None`` when it is not the
        hooks' call or nothing would change."""
        wanted = status_after(activity, questions_pending=questions_pending)
        if (
            wanted is None
            or wanted is agent.status
            or agent.status not in HOOK_MANAGED_AGENT_STATUSES
            or runner_owns_status(agent)
        ):
            return None
        return wanted
