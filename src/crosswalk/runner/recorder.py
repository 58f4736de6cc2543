"""Every write the runner makes, in one place: an agent's run state, its task's status,
its log, and the accounts it uses. Each write publishes what waiters need
(``log:<agentId>`` wakes ``log.follow``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from crosswalk.db.repositories.sqlalchemy import Repositories
from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.errors import NotFoundError
from crosswalk.domain.rows import Account, Agent, AgentUpdate, NewAgent, NewLogChunk
from crosswalk.services.notifier import Notifier


def log_key(agent_id: str) -> str:
    """The notifier key published when an agent's log or run state changes."""
    return f"log:{agent_id}"


class RunRecorder:
    def __init__(
        self, repos: Repositories, notifier: Notifier, now: Callable[[], datetime]
    ) -> None:
        self._repos = repos
        self._notifier = notifier
        self._now = now

    def create_agent(self, data: NewAgent) -> Agent:
        return self._repos.agents.create(data)

    def discard_agent(self, agent_id: str) -> None:
        """Undo ``create_agent`` when the spawn failed before the agent ever ran."""
        self._repos.agents.delete(agent_id)

    def agent(self, agent_id: str, changes: AgentUpdate) -> Agent:
        agent = self._repos.agents.update(agent_id, changes)
        self._notifier.publish(log_key(agent_id))
        return agent

    def task(self, agent: Agent, status: TaskStatus) -> None:
        """Move the agent's task to ``status`` (a completed task stays completed)."""
        if agent.task_id is None:
            return
        try:
            task = self._repos.tasks.get(agent.task_id)
        except NotFoundError:
            return
        if task.status is TaskStatus.COMPLETED or task.status is status:
            return
        self._repos.tasks.update(task.id, {"status": status})

    def log(self, agent_id: str, agent_name: str, content: str, session: int) -> None:
        self._repos.log_chunks.insert_chunk(
            NewLogChunk(
                agent_id=agent_id, agent_name=agent_name, content=content, session_number=session
            )
        )
        self._notifier.publish(log_key(agent_id))

    def next_account(self, provider: str) -> Account | None:
        """Round robin: the provider's available account used least recently, stamped."""
        return self._repos.accounts.find_next_available(provider, self._now())

    def exhaust(self, account_id: str, until: datetime) -> None:
        self._repos.accounts.mark_exhausted(account_id, until)

    def clear_expired_exhaustion(self) -> None:
        self._repos.accounts.clear_expired_exhaustion(self._now())
