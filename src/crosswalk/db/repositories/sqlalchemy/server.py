"""Adapter: servers and placements (a few rows, written every few seconds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, func, insert, select, update

from crosswalk.db.repositories.sqlalchemy._base import SqlAlchemyRepository, columns_for
from crosswalk.db.schema import agents, placements, servers
from crosswalk.domain.enums import LIVE_AGENT_STATUSES
from crosswalk.domain.rows import Placement, Server, ServerLoad

_SERVER = columns_for(servers, Server)
_PLACEMENT = columns_for(placements, Placement)
_s = servers.c
_p = placements.c


class SqlAlchemyServerRepository(SqlAlchemyRepository):
    kind = "server"

    def register(self, id: str, url: str, capacity: int, worker: bool) -> Server:
        now = self._clock.now()
        values = {
            "url": url,
            "capacity": capacity,
            "worker": worker,
            "started_at": now,
            "heartbeat_at": now,
            "lease_lost_at": None,
        }
        with self._write() as conn:
            row = conn.execute(
                update(servers).where(_s.id == id).values(values).returning(*_SERVER)
            ).first()
            if row is None:
                row = conn.execute(
                    insert(servers).values(id=id, **values).returning(*_SERVER)
                ).one()
        return Server(*row)

    def heartbeat(self, id: str) -> Server | None:
        with self._write() as conn:
            row = conn.execute(
                update(servers)
                .where(_s.id == id)
                .values(heartbeat_at=self._clock.now())
                .returning(*_SERVER)
            ).first()
        return None if row is None else Server(*row)

    def find_with_load(self) -> list[ServerLoad]:
        running = (
            select(func.count())
            .where(agents.c.server_id == _s.id, agents.c.status.in_(LIVE_AGENT_STATUSES))
            .scalar_subquery()
        )
        placed = select(func.count()).where(_p.server_id == _s.id).scalar_subquery()
        query = select(*_SERVER, running, placed).order_by(_s.id)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [ServerLoad(Server(*row[:-2]), row[-2] + row[-1]) for row in rows]

    def take_lease(self, id: str, cutoff: datetime) -> Server | None:
        with self._write() as conn:
            row = conn.execute(
                update(servers)
                .where(_s.id == id, _s.heartbeat_at < cutoff, _s.lease_lost_at.is_(None))
                .values(lease_lost_at=self._clock.now())
                .returning(*_SERVER)
            ).first()
        return None if row is None else Server(*row)

    def place(self, task_id: str, server_id: str, provider: str | None) -> Placement:
        with self._write() as conn:
            conn.execute(delete(placements).where(_p.task_id == task_id))
            row = conn.execute(
                insert(placements)
                .values(
                    task_id=task_id,
                    server_id=server_id,
                    provider=provider,
                    placed_at=self._clock.now(),
                    claimed_at=None,
                )
                .returning(*_PLACEMENT)
            ).one()
        return Placement(*row)

    def claim(self, task_id: str, server_id: str) -> Placement | None:
        with self._write() as conn:
            row = conn.execute(
                update(placements)
                .where(
                    and_(
                        _p.task_id == task_id,
                        _p.server_id == server_id,
                        _p.claimed_at.is_(None),
                    )
                )
                .values(claimed_at=self._clock.now())
                .returning(*_PLACEMENT)
            ).first()
        return None if row is None else Placement(*row)

    def find_unclaimed(self, server_id: str) -> list[Placement]:
        query = select(*_PLACEMENT).where(_p.server_id == server_id, _p.claimed_at.is_(None))
        with self._read() as conn:
            rows = conn.execute(query.order_by(_p.placed_at, _p.task_id)).all()
        return [Placement(*row) for row in rows]

    def find_by_server(self, server_id: str) -> list[Placement]:
        query = select(*_PLACEMENT).where(_p.server_id == server_id)
        with self._read() as conn:
            rows = conn.execute(query.order_by(_p.placed_at, _p.task_id)).all()
        return [Placement(*row) for row in rows]

    def remove_placement(self, task_id: str) -> None:
        with self._write() as conn:
            conn.execute(delete(placements).where(_p.task_id == task_id))
