"""Adapter: the runs (sessions) of agents' processes and what each cost."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository, columns_for
from crosswalk.db.schema import agent_runs
from crosswalk.domain.rows import AgentRun, AgentRunEnd, NewAgentRun
from crosswalk.ids import new_id

_COLUMNS = columns_for(agent_runs, AgentRun)
_SELECT = select(*_COLUMNS)
_r = agent_runs.c


class SqlAlchemyAgentRunRepository(SqlAlchemyRepository):
    kind = "agent run"

    def start(self, data: NewAgentRun) -> AgentRun:
        with self._write() as conn:
            stored = conn.execute(
                _SELECT.where(
                    _r.agent_id == data.agent_id, _r.session_number == data.session_number
                )
            ).first()
            if stored is not None:
                return AgentRun(*stored)
            row = conn.execute(
                insert(agent_runs)
                .values(
                    id=new_id(),
                    agent_id=data.agent_id,
                    agent_name=data.agent_name,
                    task_id=data.task_id,
                    initiative_id=data.initiative_id,
                    session_number=data.session_number,
                    provider=data.provider,
                    started_at=data.started_at,
                )
                .returning(*_COLUMNS)
            ).one()
        return AgentRun(*row)

    def finish(self, agent_id: str, session_number: int, end: AgentRunEnd) -> AgentRun | None:
        with self._write() as conn:
            row = conn.execute(
                update(agent_runs)
                .where(_r.agent_id == agent_id, _r.session_number == session_number)
                .values(**end)
                .returning(*_COLUMNS)
            ).first()
        return None if row is None else AgentRun(*row)

    def find(
        self,
        *,
        agent_id: str | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
    ) -> list[AgentRun]:
        query = _SELECT
        for column, value in (
            (_r.agent_id, agent_id),
            (_r.task_id, task_id),
            (_r.initiative_id, initiative_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_r.started_at, _r.id)).all()
        return [AgentRun(*row) for row in rows]
