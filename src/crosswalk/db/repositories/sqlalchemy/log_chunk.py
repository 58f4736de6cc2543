"""Adapter: raw agent output (JSONL chunks), kept after the agent is gone.

Chunks arrive in bursts, many within one millisecond, and ids are random, so
``(created_at, id)`` alone would not keep a log in the order it was written.
``insert_chunk`` therefore makes ``created_at`` strictly increasing per agent
(at most the previous chunk's time plus 1 ms), which also survives a clock
stepping backwards, and readers order by it without any dialect-specific rowid.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy import delete as sql_delete

from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository, columns_for
from crosswalk.db.schema import agent_log_chunks
from crosswalk.domain.rows import LogChunk, NewLogChunk
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

_COLUMNS = columns_for(agent_log_chunks, LogChunk)
_SELECT = select(*_COLUMNS)
_c = agent_log_chunks.c
_TICK = timedelta(milliseconds=1)
_LAST_CREATED = (
    select(_c.agent_id, func.max(_c.created_at))
    .where(_c.agent_id.in_(bindparam("agents", expanding=True)))
    .group_by(_c.agent_id)
)


class SqlAlchemyLogChunkRepository(SqlAlchemyRepository):
    kind = "log chunk"

    def insert_chunk(self, data: NewLogChunk) -> LogChunk:
        (chunk,) = self.insert_chunks([data])
        return chunk

    def insert_chunks(self, data: Sequence[NewLogChunk]) -> list[LogChunk]:
        # No check that the agent exists: a log may be flushed after its agent
        # was deleted, and it is kept all the same (there is no foreign key).
        if not data:
            return []
        agents = sorted({chunk.agent_id for chunk in data})
        with self._write() as conn:
            last: dict[str, datetime] = dict(conn.execute(_LAST_CREATED, {"agents": agents}).all())
            now = utcnow()
            chunks = []
            for new in data:
                previous = last.get(new.agent_id)
                created = now if previous is None or now > previous else previous + _TICK
                last[new.agent_id] = created
                chunks.append(
                    LogChunk(
                        new_id(),
                        new.agent_id,
                        new.agent_name,
                        new.session_number,
                        new.content,
                        created,
                    )
                )
            conn.execute(insert(agent_log_chunks), [asdict(chunk) for chunk in chunks])
        return chunks

    def find_by_agent_id(
        self,
        agent_id: str,
        *,
        session_number: int | None = None,
        after: datetime | None = None,
    ) -> list[LogChunk]:
        query = _SELECT.where(_c.agent_id == agent_id)
        if session_number is not None:
            query = query.where(_c.session_number == session_number)
        if after is not None:
            query = query.where(_c.created_at > after)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_c.created_at, _c.id)).all()
        return [LogChunk(*row) for row in rows]

    def delete_by_agent_id(self, agent_id: str) -> int:
        with self._write() as conn:
            return int(
                conn.execute(sql_delete(agent_log_chunks).where(_c.agent_id == agent_id)).rowcount
            )

    def get_session_count(self, agent_id: str) -> int:
        query = select(func.coalesce(func.max(_c.session_number), 0)).where(_c.agent_id == agent_id)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def session_counts(self, agent_ids: Collection[str]) -> dict[str, int]:
        found = dict.fromkeys(agent_ids, 0)
        if not found:
            return found
        query = (
            select(_c.agent_id, func.max(_c.session_number))
            .where(_c.agent_id.in_(list(found)))
            .group_by(_c.agent_id)
        )
        with self._read() as conn:
            found.update({agent_id: int(count) for agent_id, count in conn.execute(query)})
        return found
