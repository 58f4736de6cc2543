"""The runs of agents' processes and what they cost (``crosswalk.domain.usage``).

The runner records each run as it starts (its session number, when, for which task and
initiative) and as it ends (how, and the usage its CLI reported); the totals of an
agent, a task or an initiative are read back from those rows. Each write runs in a unit
of work recording ``EntityChanged("agentRun", ...)``, so the dashboard refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crosswalk.db.repositories import AgentRunRepository
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.domain.enums import RunEnd
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Agent, AgentRun, AgentRunEnd, NewAgentRun
from crosswalk.domain.usage import Usage, UsageTotals, total, totals_by
from crosswalk.services.unit_of_work import UnitOfWorkFactory


@dataclass(slots=True)
class UsageService:
    runs: AgentRunRepository
    unit_of_work: UnitOfWorkFactory
    clock: Clock = SYSTEM_CLOCK  # "now", for the runs still going

    # --- what the runner records ------------------------------------------------------

    def run_started(self, agent: Agent, session: int, at: datetime) -> AgentRun:
        with self.unit_of_work() as uow:
            run = self.runs.start(
                NewAgentRun(
                    agent_id=agent.id,
                    agent_name=agent.name,
                    session_number=session,
                    provider=agent.provider,
                    started_at=at,
                    task_id=agent.task_id,
                    initiative_id=agent.initiative_id,
                )
            )
            uow.record(EntityChanged("agentRun", run.id, Action.CREATED))
        return run

    def run_ended(
        self, agent: Agent, session: int, how: RunEnd, usage: Usage | None, at: datetime
    ) -> AgentRun:
        """Record the end of the session's run. A run that was never recorded as started
        (begun by a server without this record) is recorded now, started when the
        CLI's duration says, else at its end."""
        usage = usage or Usage()
        with self.unit_of_work() as uow:
            started = self.runs.find(agent_id=agent.id)
            run = next((r for r in started if r.session_number == session), None)
            if run is None:
                began = at - timedelta(milliseconds=usage.duration_ms or 0)
                run = self.run_started(agent, session, began)
            measured = int((at - run.started_at).total_seconds() * 1000)
            end: AgentRunEnd = {
                "ended_at": at,
                "outcome": how,
                "cost_usd": usage.cost_usd,
                "turns": usage.turns,
                "duration_ms": usage.duration_ms if usage.duration_ms is not None else measured,
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
                "cache_creation_tokens": usage.cache_creation_tokens,
                "cache_read_tokens": usage.cache_read_tokens,
            }
            ended = self.runs.finish(agent.id, session, end)
            assert ended is not None  # found or started above, in this transaction
            uow.record(EntityChanged("agentRun", ended.id, Action.UPDATED))
        return ended

    def close_open_runs(self, agent: Agent, how: RunEnd, at: datetime) -> None:
        """End whatever run of the agent is still open (its process is gone and nothing
        reported on it), so its run time stops growing."""
        for run in self.runs.find(agent_id=agent.id):
            if run.ended_at is None:
                self.run_ended(agent, run.session_number, how, None, at)

    # --- totals -----------------------------------------------------------------------

    def of_agent(self, agent_id: str) -> UsageTotals:
        return total(self.runs.find(agent_id=agent_id), self.clock.now())

    def of_task(self, task_id: str) -> UsageTotals:
        return total(self.runs.find(task_id=task_id), self.clock.now())

    def of_initiative(self, initiative_id: str) -> UsageTotals:
        return total(self.runs.find(initiative_id=initiative_id), self.clock.now())

    def by_agent(self, initiative_id: str | None = None) -> dict[str, UsageTotals]:
        """Totals per agent (of one initiative, or of every agent)."""
        runs = self.runs.find(initiative_id=initiative_id)
        return totals_by(runs, lambda run: run.agent_id, self.clock.now())

    def by_task(self, initiative_id: str) -> dict[str, UsageTotals]:
        runs = self.runs.find(initiative_id=initiative_id)
        return totals_by(runs, lambda run: run.task_id, self.clock.now())
