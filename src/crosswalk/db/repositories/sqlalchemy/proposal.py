"""Adapter: proposals agents make for pages, phases and tasks.

An agent's proposals are usually handled as a batch (accept all, dismiss the
rest), hence ``update_many_by_agent_id`` as one statement rather than a loop.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy import delete as sql_delete

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    paginate,
    require_row,
)
from crosswalk.db.schema import agents, initiatives, proposals
from crosswalk.domain.enums import ProposalStatus
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    NewProposal,
    Paged,
    Proposal,
    ProposalUpdate,
    Removal,
)
from crosswalk.ids import new_id

_COLUMNS = columns_for(proposals, Proposal)
_SELECT = select(*_COLUMNS)
_c = proposals.c
_IN_SORT_ORDER = (_c.sort_order, _c.created_at, _c.id)


class SqlAlchemyProposalRepository(SqlAlchemyRepository):
    kind = "proposal"

    def create(self, data: NewProposal) -> Proposal:
        now = self._clock.now()
        values = {
            "id": new_id(),
            "agent_id": data.agent_id,
            "initiative_id": data.initiative_id,
            "target_type": data.target_type,
            "target_id": data.target_id,
            "title": data.title,
            "summary": data.summary,
            "content": data.content,
            "metadata": data.metadata,
            "status": data.status,
            "sort_order": data.sort_order,
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as conn:
            require_row(conn, agents, "agent", data.agent_id)
            require_row(conn, initiatives, "initiative", data.initiative_id)
            row = conn.execute(insert(proposals).values(values).returning(*_COLUMNS)).one()
        return Proposal(*row)

    def find_by_id(self, id: str) -> Proposal | None:
        with self._read() as conn:
            row = conn.execute(_SELECT.where(_c.id == id)).first()
        return None if row is None else Proposal(*row)

    def get(self, id: str) -> Proposal:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_all(self) -> list[Proposal]:
        return self._all(_SELECT.order_by(*_IN_SORT_ORDER))

    def find_by_initiative_id(self, initiative_id: str) -> list[Proposal]:
        return self._all(_SELECT.where(_c.initiative_id == initiative_id).order_by(*_IN_SORT_ORDER))

    def find_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> list[Proposal]:
        query = _SELECT.where(_c.agent_id == agent_id)
        if status is not None:
            query = query.where(_c.status == status)
        return self._all(query.order_by(*_IN_SORT_ORDER))

    def count_by_agent_id_and_status(
        self, agent_id: str, status: ProposalStatus | None = None
    ) -> int:
        query = select(func.count()).select_from(proposals).where(_c.agent_id == agent_id)
        if status is not None:
            query = query.where(_c.status == status)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def list_page(
        self,
        *,
        agent_id: str | None = None,
        initiative_id: str | None = None,
        status: ProposalStatus | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Proposal]:
        query = _SELECT
        for column, value in (
            (_c.agent_id, agent_id),
            (_c.initiative_id, initiative_id),
            (_c.status, status),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            return paginate(conn, query, proposals, Proposal, limit=limit, cursor=cursor)

    def update(self, id: str, changes: ProposalUpdate) -> Proposal:
        values = checked_changes(self.kind, changes, ProposalUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            return self._update_row(conn, proposals, Proposal, id, values)

    def update_many_by_agent_id(
        self,
        agent_id: str,
        changes: ProposalUpdate,
        *,
        status: ProposalStatus | None = None,
    ) -> list[str]:
        if not changes:
            return []  # nothing to change, so no row changed
        query = (
            update(proposals)
            .where(_c.agent_id == agent_id)
            .values({**changes, "updated_at": self._clock.now()})
            .returning(_c.id)
        )
        if status is not None:
            query = query.where(_c.status == status)
        with self._write() as conn:
            return sorted(conn.execute(query).scalars())

    def delete(self, id: str) -> Removal:
        with self._write() as conn:
            deleted = conn.execute(sql_delete(proposals).where(_c.id == id)).rowcount
        if not deleted:
            raise self._not_found(id)
        return {}  # nothing references a proposal

    def _all(self, query: Select[Any]) -> list[Proposal]:
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Proposal(*row) for row in rows]
