"""Adapter: answering runs (a few per agent; nothing here is on a hot path)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update

from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository, columns_for
from crosswalk.db.schema import agents, answering_runs
from crosswalk.domain.errors import InvalidInputError, NotFoundError
from crosswalk.domain.rows import AnsweringRun, NewAnsweringRun
from crosswalk.ids import new_id

_COLUMNS = columns_for(answering_runs, AnsweringRun)
_SELECT = select(*_COLUMNS)
_c = answering_runs.c


class SqlAlchemyAnsweringRunRepository(SqlAlchemyRepository):
    kind = "answering run"

    def start(self, data: NewAnsweringRun) -> AnsweringRun:
        values = {
            "id": new_id(),
            "agent_id": data.agent_id,
            "session_number": data.session_number,
            "question_ids": list(data.question_ids),
            "started_at": self._clock.now(),
            "ended_at": None,
            "outcome": None,
            "left_changes": None,
        }
        try:
            with self._write() as conn:
                row = conn.execute(insert(answering_runs).values(values).returning(*_COLUMNS))
                return AnsweringRun(*row.one())
        except InvalidInputError:
            with self._read() as conn:
                found = conn.execute(select(agents.c.id).where(agents.c.id == data.agent_id))
                if found.first() is None:
                    raise NotFoundError("agent", data.agent_id) from None
            raise

    def finish(self, id: str, outcome: str, left_changes: Sequence[str] | None) -> AnsweringRun:
        changes = None if left_changes is None else list(left_changes)
        with self._write() as conn:
            row = conn.execute(
                update(answering_runs)
                .where(_c.id == id, _c.ended_at.is_(None))
                .values(ended_at=self._clock.now(), outcome=outcome, left_changes=changes)
                .returning(*_COLUMNS)
            ).first()
            if row is None:
                row = conn.execute(_SELECT.where(_c.id == id)).first()
        if row is None:
            raise self._not_found(id)
        return AnsweringRun(*row)

    def find_open(self, agent_id: str | None = None) -> list[AnsweringRun]:
        query = _SELECT.where(_c.ended_at.is_(None))
        if agent_id is not None:
            query = query.where(_c.agent_id == agent_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_c.started_at, _c.id)).all()
        return [AnsweringRun(*row) for row in rows]

    def find_by_agent(self, agent_id: str, *, limit: int = 20) -> list[AnsweringRun]:
        query = _SELECT.where(_c.agent_id == agent_id)
        query = query.order_by(_c.started_at.desc(), _c.id.desc()).limit(limit)
        with self._read() as conn:
            return [AnsweringRun(*row) for row in conn.execute(query).all()]
