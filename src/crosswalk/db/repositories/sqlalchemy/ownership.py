"""Adapter: the ownership index, overlap notices and merge previews.

``owners`` runs on every ask by file and ``undelivered_notices`` on every hook call of
every agent, so both are prepared statements (``_prepared.HotStatement``) served by an
index: ``(initiative_id, path)`` for the first, the primary key's ``agent_id`` prefix
for the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    columns_for,
    values_of,
)
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import agents, file_changes, merge_previews, overlap_notices, tasks
from crosswalk.domain.rows import (
    Agent,
    FileChange,
    FileOwner,
    LineRanges,
    MergePreview,
    Overlap,
    OverlapNotice,
)

_f = file_changes.c
_n = overlap_notices.c
_p = merge_previews.c
_AGENT = columns_for(agents, Agent)
_CHANGE = columns_for(file_changes, FileChange)
_AGENT_WIDTH, _CHANGE_WIDTH = len(_AGENT), len(_CHANGE)
_OWNERS = (
    select(*_AGENT, *_CHANGE, tasks.c.name, tasks.c.phase_id)
    .select_from(
        file_changes.join(agents, agents.c.id == _f.agent_id).outerjoin(
            tasks, tasks.c.id == _f.task_id
        )
    )
    .where(_f.path == bindparam("path"))
    .order_by(_f.changed_at.desc(), _f.merged, _f.agent_id)
)
# The hot path's statements: asking by file, and every hook call.
OWNERS_IN = HotStatement(_OWNERS.where(_f.initiative_id == bindparam("initiative_id")))
OWNERS_ANYWHERE = HotStatement(_OWNERS)
UNDELIVERED_NOTICES = HotStatement(
    select(*columns_for(overlap_notices, OverlapNotice))
    .where(_n.agent_id == bindparam("agent_id"), _n.delivered_at.is_(None))
    .order_by(_n.created_at, _n.other_agent_id, _n.path)
)


def _ranges(value: Any) -> LineRanges:
    return tuple((int(first), int(last)) for first, last in value or ())


def _change(values: Sequence[Any]) -> FileChange:
    agent_id, merged, path, initiative_id, task_id, lines, changed_at = values
    return FileChange(
        agent_id, bool(merged), path, initiative_id, task_id, _ranges(lines), changed_at
    )


def _owner(row: Sequence[Any]) -> FileOwner:
    agent = Agent(*row[:_AGENT_WIDTH])
    change = _change(row[_AGENT_WIDTH : _AGENT_WIDTH + _CHANGE_WIDTH])
    task_name, phase_id = row[-2], row[-1]
    return FileOwner(agent, change, task_name, phase_id)


def _change_values(change: FileChange) -> dict[str, Any]:
    return {
        "agent_id": change.agent_id,
        "merged": change.merged,
        "path": change.path,
        "initiative_id": change.initiative_id,
        "task_id": change.task_id,
        "lines": [list(pair) for pair in change.lines],
        "changed_at": change.changed_at,
    }


class SqlAlchemyOwnershipRepository(SqlAlchemyRepository):
    kind = "file change"

    def owners(self, path: str, *, initiative_id: str | None) -> list[FileOwner]:
        if initiative_id is None:
            rows = self._select(values_of, OWNERS_ANYWHERE, {"path": path})
        else:
            rows = self._select(
                values_of, OWNERS_IN, {"path": path, "initiative_id": initiative_id}
            )
        return [_owner(row) for row in rows]

    def changes_of(self, agent_id: str, *, merged: bool) -> list[FileChange]:
        query = (
            select(*_CHANGE).where(_f.agent_id == agent_id, _f.merged == merged).order_by(_f.path)
        )
        with self._read() as conn:
            return [_change(row) for row in conn.execute(query)]

    def replace_changes(
        self, agent_id: str, *, merged: bool, changes: Sequence[FileChange]
    ) -> None:
        with self._write() as conn:
            conn.execute(delete(file_changes).where(_f.agent_id == agent_id, _f.merged == merged))
            if changes:
                conn.execute(insert(file_changes), [_change_values(c) for c in changes])

    def overlaps(self, initiative_id: str) -> list[Overlap]:
        unmerged = and_(_f.initiative_id == initiative_id, _f.merged.is_(False))
        shared = (
            select(_f.path)
            .where(unmerged)
            .group_by(_f.path)
            .having(func.count() > 1)
            .scalar_subquery()
        )
        query = (
            select(_f.path, _f.agent_id)
            .where(unmerged, _f.path.in_(shared))
            .order_by(_f.path, _f.changed_at.desc(), _f.agent_id)
        )
        grouped: dict[str, list[str]] = {}
        with self._read() as conn:
            for path, agent_id in conn.execute(query):
                grouped.setdefault(path, []).append(agent_id)
        return [Overlap(path, tuple(ids)) for path, ids in grouped.items()]

    def add_notices(self, notices: Sequence[OverlapNotice]) -> list[OverlapNotice]:
        if not notices:
            return []
        keys = [(n.agent_id, n.other_agent_id, n.path) for n in notices]
        with self._write() as conn:
            stored = {
                tuple(row)
                for row in conn.execute(
                    select(_n.agent_id, _n.other_agent_id, _n.path).where(
                        tuple_(_n.agent_id, _n.other_agent_id, _n.path).in_(keys)
                    )
                )
            }
            new = list({key: n for key, n in zip(keys, notices, strict=True)
                        if key not in stored}.values())  # fmt: skip
            if new:
                conn.execute(
                    insert(overlap_notices),
                    [
                        {
                            "agent_id": n.agent_id,
                            "other_agent_id": n.other_agent_id,
                            "path": n.path,
                            "initiative_id": n.initiative_id,
                            "created_at": n.created_at,
                            "delivered_at": n.delivered_at,
                        }
                        for n in new
                    ],
                )
        return new

    def undelivered_notices(self, agent_id: str) -> list[OverlapNotice]:
        return self._select(OverlapNotice, UNDELIVERED_NOTICES, {"agent_id": agent_id})

    def mark_notices_delivered(
        self, agent_id: str, keys: Sequence[tuple[str, str]], at: datetime
    ) -> int:
        if not keys:
            return 0
        statement = (
            update(overlap_notices)
            .where(
                _n.agent_id == agent_id,
                tuple_(_n.other_agent_id, _n.path).in_(list(dict.fromkeys(keys))),
                _n.delivered_at.is_(None),
            )
            .values(delivered_at=at)
        )
        with self._write() as conn:
            return int(conn.execute(statement).rowcount)

    def save_preview(self, preview: MergePreview) -> None:
        values = {
            "agent_id": preview.agent_id,
            "other_agent_id": preview.other_agent_id,
            "initiative_id": preview.initiative_id,
            "conflicts": preview.conflicts,
            "files": list(preview.files),
            "checked_at": preview.checked_at,
        }
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(merge_previews).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[_p.agent_id, _p.other_agent_id],
            set_={
                "initiative_id": statement.excluded.initiative_id,
                "conflicts": statement.excluded.conflicts,
                "files": statement.excluded.files,
                "checked_at": statement.excluded.checked_at,
            },
        )
        with self._write() as conn:
            conn.execute(statement)

    def previews(self, initiative_id: str) -> list[MergePreview]:
        query = (
            select(*columns_for(merge_previews, MergePreview))
            .where(_p.initiative_id == initiative_id)
            .order_by(_p.agent_id, _p.other_agent_id)
        )
        with self._read() as conn:
            return [
                MergePreview(a, b, initiative, bool(conflicts), tuple(files or ()), checked)
                for a, b, initiative, conflicts, files, checked in conn.execute(query)
            ]

    def drop_previews(self, agent_id: str) -> int:
        statement = delete(merge_previews).where(
            or_(_p.agent_id == agent_id, _p.other_agent_id == agent_id)
        )
        with self._write() as conn:
            return int(conn.execute(statement).rowcount)
