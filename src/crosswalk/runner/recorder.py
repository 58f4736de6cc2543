"""Every write the runner makes, in one place, each through the service that owns it:
an agent's run state (``AgentService``, the one writer of its status), its task's
status (``PlanningService``), its log (``LogService``), the accounts it uses
(``AccountService``), each run's start, end and usage (``UsageService``) and its
answering runs (``AnsweringService``). Each runs in a unit of work whose events wake the
waiters (``logs:<agentId>`` and ``agent:<agentId>`` wake ``log.follow``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from crosswalk.domain.enums import RunEnd, TaskStatus
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import (
    Account,
    Agent,
    AgentUpdate,
    AnsweringRun,
    Conversation,
    NewAgent,
)
from crosswalk.domain.usage import Usage
from crosswalk.services.accounts import AccountService
from crosswalk.services.agents import AgentService
from crosswalk.services.answering import AnsweringService
from crosswalk.services.auth import hash_token, new_token
from crosswalk.services.logs import LogService
from crosswalk.services.planning import PlanningService
from crosswalk.services.usage import UsageService


@dataclass(frozen=True, slots=True)
class RunnerServices:
    """The services the runner writes through."""

    agents: AgentService
    planning: PlanningService
    accounts: AccountService
    logs: LogService
    usage: UsageService
    answering: AnsweringService


class RunRecorder:
    def __init__(self, services: RunnerServices, now: Callable[[], datetime]) -> None:
        self._services = services
        self._now = now

    def create_agent(self, data: NewAgent) -> Agent:
        """A new agent holding no token yet: each run issues its own."""
        return self._services.agents.create(data)

    def discard_agent(self, agent_id: str) -> None:
        """Undo ``create_agent`` when the spawn failed before the agent ever ran."""
        self._services.agents.delete(agent_id)

    def agent(self, agent_id: str, changes: AgentUpdate) -> Agent:
        return self._services.agents.update(agent_id, changes)

    def issue_token(self, agent_id: str, changes: AgentUpdate) -> str:
        """A fresh token for the run about to start, recorded with ``changes``; the
        previous one stops working. It works before the process starts, so the run's
        first ``cw`` call succeeds."""
        token = new_token()
        self.agent(agent_id, {**changes, "token_hash": hash_token(token)})
        return token

    def run_ended(self, agent_id: str, changes: AgentUpdate) -> Agent:
        """Record how a run ended (or that it never started) with ``changes``, revoking
        the run's token: a spawned agent's token lives exactly as long as its run. The
        change is an agent update, so every server's token cache forgets the token
        before the next request (docs/security.md)."""
        return self.agent(agent_id, {**changes, "token_hash": None})

    def task(self, agent: Agent, status: TaskStatus) -> None:
        """Move the agent's task to ``status`` (a completed task stays completed)."""
        if agent.task_id is None:
            return
        planning = self._services.planning
        try:
            task = planning.tasks.get(agent.task_id)
        except NotFoundError:
            return
        if task.status is TaskStatus.COMPLETED or task.status is status:
            return
        planning.update_task(task.id, {"status": status})

    def logs(self, chunks: Sequence[tuple[Agent, str, int]]) -> None:
        """Chunks of several agents (``(agent, content, session)``) in one write."""
        self._services.logs.append_many(chunks)

    def run_started(self, agent: Agent, session: int) -> None:
        self._services.usage.run_started(agent, session, self._now())

    def run_usage(self, agent: Agent, session: int, how: RunEnd, usage: Usage | None) -> None:
        """How the session's run ended and what its CLI said it cost."""
        self._services.usage.run_ended(agent, session, how, usage, self._now())

    def runs_closed(self, agent: Agent, how: RunEnd) -> None:
        """The agent's process is gone without a word on how: end its open runs."""
        self._services.usage.close_open_runs(agent, how, self._now())

    def next_account(self, provider: str) -> Account | None:
        """Round robin: the provider's available account used least recently, stamped."""
        return self._services.accounts.next_available(provider, self._now())

    def exhaust(self, account_id: str, until: datetime) -> None:
        self._services.accounts.mark_exhausted(account_id, until)

    def clear_expired_exhaustion(self) -> None:
        self._services.accounts.clear_expired(self._now())

    def waiting_questions(self, agent_id: str) -> list[Conversation]:
        return self._services.answering.waiting_for(agent_id)

    def begin_answering(self, agent_id: str, session: int, question_ids: list[str]) -> AnsweringRun:
        return self._services.answering.begin(agent_id, session, question_ids)

    def end_answering(
        self,
        run_id: str,
        outcome: str,
        *,
        left_changes: Sequence[str] | None = None,
        abandon: Sequence[str] = (),
        reason: str = "",
    ) -> AnsweringRun:
        run, _ = self._services.answering.end(
            run_id, outcome, left_changes=left_changes, abandon=abandon, reason=reason
        )
        return run
