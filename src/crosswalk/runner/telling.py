"""The person tells an agent something (``cw tell``, the agent page's message box).

What was said is recorded as a message from the person to the agent, so ``cw message
list`` and the agent page show it, and it reaches the agent one of two ways:

- the agent has a process (``running``, ``waiting_for_input``), or crosswalk does not run
  it (registered by hand: it has no ``processStartedAt``): the message waits,
  ``pending``, for the agent's next hook, which hands it over once (``agent.checkIn``,
  docs/hooks.md);
- crosswalk ran it and the run has ended (``idle``, ``stopped``, ``crashed``): it is
  resumed in its session with the message as the prompt, and the message is ``read``.

A run that ends while the message waits still gets it: the next session's start hook
hands it over.

The person's reply to an agent's question reaches it the same way when no wait of the
agent's takes it (it asked with ``--no-wait``, or its run ended before the reply came):
its next hook, or a resume with the reply as the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from crosswalk.domain.enums import LIVE_AGENT_STATUSES, MessageStatus
from crosswalk.domain.errors import ConflictError, CrosswalkError
from crosswalk.domain.rows import Agent, Message
from crosswalk.runner.supervisor import Supervisor
from crosswalk.services.agents import AgentService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.offload import InlineOffload, Offload


class Delivery(StrEnum):
    """How a message from the person reaches the agent."""

    #: It is working: its next hook (after a tool call, at a prompt, at its stop).
    NEXT_HOOK = "next_hook"
    #: Registered by hand and not working: the first hook of its next session.
    NEXT_SESSION = "next_session"
    #: crosswalk resumed it with the message as the prompt.
    RESUMED = "resumed"


def delivery_for(agent: Agent) -> Delivery:
    """Resume a run crosswalk started that has ended; anything else hears it at its
    next hook, now if it is working, else when its session runs again."""
    if agent.status in LIVE_AGENT_STATUSES:
        return Delivery.NEXT_HOOK
    if agent.process_started_at is None:
        return Delivery.NEXT_SESSION
    return Delivery.RESUMED


@dataclass(frozen=True, slots=True)
class Told:
    message: Message
    agent: Agent
    delivery: Delivery


class Replies(Protocol):
    """Records the person's reply to a message: ``HumanQuestionService.reply``, or the
    composition root's ``CheckpointService.reply``, which also completes a checkpoint the
    question was about, in the same unit of work."""

    def reply(self, message_id: str, text: str) -> tuple[Message, Message]: ...


@dataclass(slots=True)
class TellService:
    agents: AgentService
    human_questions: HumanQuestionService
    supervisor: Supervisor
    replies: Replies
    offload: Offload = field(default_factory=InlineOffload)  # where database work runs

    async def tell(self, agent_id: str, text: str) -> Told:
        """Deliver ``text`` from the person to the agent (id or name). A resume that
        cannot start (no session, worktree gone, no executable) records nothing and
        says why; one that finds the agent already running again leaves the message
        for its next hook."""
        agent = await self.offload(self.agents.resolve, agent_id)
        if delivery_for(agent) is Delivery.RESUMED:
            try:
                agent = await self.supervisor.resume(agent.id, text)
            except ConflictError:  # resumed meanwhile by someone else
                agent = await self.offload(self.agents.resolve, agent.id)
            else:
                message = await self.offload(
                    self.human_questions.tell, agent.id, text, handed_over=True
                )
                return Told(message, agent, Delivery.RESUMED)
        message = await self.offload(self.human_questions.tell, agent.id, text, handed_over=False)
        delivery = delivery_for(agent)
        return Told(
            message, agent, Delivery.NEXT_HOOK if delivery is Delivery.RESUMED else delivery
        )

    async def reply(self, message_id: str, text: str) -> tuple[Message, Message]:
        """The person replies to a question (``replies``). An agent
        crosswalk ran whose run has ended is resumed with the reply as the prompt and
        the reply is ``read``; any other agent takes it from its wait or its next hook.
        A resume that cannot start leaves the reply for the agent's next session."""
        question, reply = await self.offload(self.replies.reply, message_id, text)
        if reply.status is not MessageStatus.PENDING or reply.recipient_id is None:
            return question, reply  # crosswalk's own question: the person wrote both
        agent = await self.offload(self.agents.resolve, reply.recipient_id)
        if delivery_for(agent) is not Delivery.RESUMED:
            return question, reply
        prompt = (
            f"The person replied to your question {question.id}, which was:\n"
            f"{_indented(question.content)}\n\nTheir reply:\n{_indented(text)}"
        )
        try:
            await self.supervisor.resume(agent.id, prompt)
        except CrosswalkError:  # running again, or it cannot run: the reply stays pending
            return question, reply
        return question, await self.offload(self.human_questions.mark_read, reply)


def _indented(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.split("\n"))
