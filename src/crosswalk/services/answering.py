"""Answering runs: an idle agent crosswalk runs is resumed in its own session to answer
the questions waiting for it (docs/runner.md, "Answering").

The runner decides when such a run starts and ends (``crosswalk.runner.answering``);
this service records it, each change in a unit of work with its events:

- ``begin``: the run, with its log session and the questions its prompt lists;
- ``end``: how it ended and what it left changed in the worktree; the questions it was
  given and did not answer can end ``abandoned`` with the reason in the same unit of
  work (``QuestionAbandoned`` wakes their askers), so a question is put to an answering
  run once, never in a loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crosswalk.db.repositories import AnsweringRunRepository, ConversationRepository
from crosswalk.domain.events import Action, EntityChanged, QuestionAbandoned
from crosswalk.domain.rows import AnsweringRun, Conversation, NewAnsweringRun
from crosswalk.services.unit_of_work import UnitOfWorkFactory

ENTITY = "answeringRun"


@dataclass(slots=True)
class AnsweringService:
    runs: AnsweringRunRepository
    conversations: ConversationRepository
    unit_of_work: UnitOfWorkFactory

    def waiting_for(self, agent_id: str) -> list[Conversation]:
        """The questions waiting for the agent's answer, oldest first."""
        return self.conversations.find_pending_for_agent(agent_id)

    def begin(self, agent_id: str, session_number: int, question_ids: list[str]) -> AnsweringRun:
        with self.unit_of_work() as uow:
            run = self.runs.start(NewAnsweringRun(agent_id, session_number, question_ids))
            uow.record(EntityChanged(ENTITY, run.id, Action.CREATED))
        return run

    def end(
        self,
        run_id: str,
        outcome: str,
        *,
        left_changes: Sequence[str] | None = None,
        abandon: Sequence[str] = (),
        reason: str = "",
    ) -> tuple[AnsweringRun, list[Conversation]]:
        """The run ended with ``outcome``; those of ``abandon`` (conversation ids) still
        pending end ``abandoned`` with ``reason``. Returns the run and what was
        abandoned."""
        with self.unit_of_work() as uow:
            run = self.runs.finish(run_id, outcome, left_changes)
            abandoned = self.conversations.abandon(list(abandon), reason) if abandon else []
            uow.record(
                EntityChanged(ENTITY, run.id, Action.UPDATED),
                *(QuestionAbandoned(c.id, c.from_agent_id, c.to_agent_id) for c in abandoned),
            )
        return run, abandoned

    def abandon(self, conversation_ids: Sequence[str], reason: str) -> list[Conversation]:
        """Those of the questions still pending end ``abandoned`` with ``reason`` (an
        agent that cannot be resumed to answer them)."""
        with self.unit_of_work() as uow:
            abandoned = self.conversations.abandon(list(conversation_ids), reason)
            uow.record(
                *(QuestionAbandoned(c.id, c.from_agent_id, c.to_agent_id) for c in abandoned)
            )
        return abandoned
