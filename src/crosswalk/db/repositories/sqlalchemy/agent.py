"""Adapter: agents.

Names are unique and human-typed, so a missing name becomes a fresh
adjective-animal alias chosen inside the insert's write transaction (the check
and the insert cannot be separated by another writer). References to a task,
initiative or account are checked in that same transaction so the caller learns
*which* one is missing, instead of a bare foreign-key failure.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, bindparam, func, insert, or_, select
from sqlalchemy import delete as sql_delete
from sqlalchemy.exc import IntegrityError

from crosswalk.db.driver_errors import Failure, classify
from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    constraint_columns,
    paginate,
    require_row,
    values_of,
)
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.schema import (
    accounts,
    agent_log_chunks,
    agents,
    conversations,
    initiatives,
    messages,
    phases,
    proposals,
    tasks,
)
from crosswalk.domain.enums import ACTIVE_AGENT_STATUSES, AgentStatus
from crosswalk.domain.errors import ConflictError
from crosswalk.domain.names import random_alias
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Agent,
    AgentUpdate,
    LocatedAgent,
    NewAgent,
    Paged,
    Removal,
    Workers,
)
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

_COLUMNS = columns_for(agents, Agent)
_SELECT = select(*_COLUMNS)
_c = agents.c
# The hot path's statements (``_prepared.HotStatement``): every request authenticates
# by token hash; agents are read by id and by name.
BY_ID = HotStatement(_SELECT.where(_c.id == bindparam("id")))
BY_NAME = HotStatement(_SELECT.where(_c.name == bindparam("name")))
BY_TOKEN_HASH = HotStatement(_SELECT.where(_c.token_hash == bindparam("token_hash")))
_NEWEST_UPDATE_FIRST = (_c.updated_at.desc(), _c.id.desc())
# The active agents: on a task, most recently updated first (the runner checks it before
# it starts one there). The statuses are written as equalities (bound once) rather than
# an IN list, which a prepared statement cannot expand; SQLite plans both alike.
_ACTIVE = or_(*(_c.status == status for status in ACTIVE_AGENT_STATUSES))
ACTIVE_BY_TASK = HotStatement(
    _SELECT.where(_c.task_id == bindparam("task_id"), _ACTIVE).order_by(*_NEWEST_UPDATE_FIRST)
)
# Asking reads one of these three: who answers, and what the question is filed under
# (its task's phase and initiative), in one statement. An agent: an id match or a name
# match (the id match wins). A task or a phase: a row per active agent, and rows
# without an agent where there is none; no row when the task or phase does not exist.
LOCATE = HotStatement(
    select(*_COLUMNS, tasks.c.phase_id, tasks.c.initiative_id)
    .select_from(agents.outerjoin(tasks, tasks.c.id == _c.task_id))
    .where(or_(_c.id == bindparam("key"), _c.name == bindparam("key")))
)
WORKERS_OF_TASK = HotStatement(
    select(tasks.c.phase_id, tasks.c.initiative_id, *_COLUMNS)
    .select_from(tasks.outerjoin(agents, and_(_c.task_id == tasks.c.id, _ACTIVE)))
    .where(tasks.c.id == bindparam("task_id"))
    .order_by(*_NEWEST_UPDATE_FIRST)
)
# (One row per task of the phase with no active agent, too: a phase has few tasks.)
WORKERS_IN_PHASE = HotStatement(
    select(phases.c.id, phases.c.initiative_id, *_COLUMNS)
    .select_from(
        phases.outerjoin(tasks, tasks.c.phase_id == phases.c.id).outerjoin(
            agents, and_(_c.task_id == tasks.c.id, _ACTIVE)
        )
    )
    .where(phases.c.id == bindparam("phase_id"))
    .order_by(*_NEWEST_UPDATE_FIRST)
)
_OLDEST_FIRST = (_c.created_at, _c.id)

# Column -> (referenced table, its kind in error messages).
_REFERENCES: dict[str, tuple[Table, str]] = {
    "task_id": (tasks, "task"),
    "initiative_id": (initiatives, "initiative"),
    "account_id": (accounts, "account"),
}
# Fresh aliases to try before giving up on the bare form and adding a suffix.
ALIAS_ATTEMPTS = 12


class SqlAlchemyAgentRepository(SqlAlchemyRepository):
    kind = "agent"

    def create(self, data: NewAgent) -> Agent:
        now = utcnow()
        values: dict[str, Any] = {
            "id": new_id(),
            "task_id": data.task_id,
            "initiative_id": data.initiative_id,
            "session_id": data.session_id,
            "worktree_id": data.worktree_id,
            "provider": data.provider,
            "account_id": data.account_id,
            "status": data.status,
            "mode": data.mode,
            "pid": data.pid,
            "output_file_path": data.output_file_path,
            "token_hash": data.token_hash,
            "server_id": data.server_id,
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as conn:
            _require_references(conn, values)
            if data.name is None:
                return _insert_with_free_alias(conn, values)
            _require_free_name(conn, data.name)
            values["name"] = data.name
            row = conn.execute(insert(agents).values(values).returning(*_COLUMNS)).one()
        return Agent(*row)

    def find_by_id(self, id: str) -> Agent | None:
        return self._prepared_first(BY_ID, {"id": id})

    def get(self, id: str) -> Agent:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_all(self) -> list[Agent]:
        return self._all(_SELECT.order_by(*_OLDEST_FIRST))

    def find_by_name(self, name: str) -> Agent | None:
        return self._prepared_first(BY_NAME, {"name": name})

    def find_by_ids(self, ids: Collection[str]) -> list[Agent]:
        if not ids:
            return []
        return self._all(_SELECT.where(_c.id.in_(list(ids))).order_by(*_OLDEST_FIRST))

    def find_by_task_ids(self, task_ids: Collection[str]) -> list[Agent]:
        if not task_ids:
            return []
        query = _SELECT.where(_c.task_id.in_(list(task_ids)))
        return self._all(query.order_by(*_NEWEST_UPDATE_FIRST))

    def find_by_task_id(self, task_id: str) -> list[Agent]:
        return self._all(_SELECT.where(_c.task_id == task_id).order_by(*_NEWEST_UPDATE_FIRST))

    def find_by_session_id(self, session_id: str) -> Agent | None:
        # A session id identifies one CLI session; should two agents ever share
        # one, the most recently active is the one a resume means.
        return self._first(
            _SELECT.where(_c.session_id == session_id).order_by(*_NEWEST_UPDATE_FIRST)
        )

    def find_by_status(self, status: AgentStatus) -> list[Agent]:
        return self._all(_SELECT.where(_c.status == status).order_by(*_OLDEST_FIRST))

    def find_by_server_id(self, server_id: str) -> list[Agent]:
        return self._all(_SELECT.where(_c.server_id == server_id).order_by(*_OLDEST_FIRST))

    def find_by_token_hash(self, token_hash: str) -> Agent | None:
        return self._prepared_first(BY_TOKEN_HASH, {"token_hash": token_hash})

    def find_active_by_task_id(self, task_id: str) -> list[Agent]:
        return self._select(Agent, ACTIVE_BY_TASK, {"task_id": task_id})

    def locate(self, id_or_name: str) -> LocatedAgent | None:
        rows = self._select(values_of, LOCATE, {"key": id_or_name})
        if not rows:
            return None
        # At most two rows: one whose id matches, one whose name does.
        row = next((row for row in rows if row[0] == id_or_name), rows[0])
        return LocatedAgent(Agent(*row[:-2]), row[-2], row[-1])

    def workers_of_task(self, task_id: str) -> Workers | None:
        return _workers(self._select(values_of, WORKERS_OF_TASK, {"task_id": task_id}))

    def workers_in_phase(self, phase_id: str) -> Workers | None:
        return _workers(self._select(values_of, WORKERS_IN_PHASE, {"phase_id": phase_id}))

    def list_page(
        self,
        *,
        status: AgentStatus | None = None,
        task_id: str | None = None,
        initiative_id: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Agent]:
        query = _SELECT
        for column, value in (
            (_c.status, status),
            (_c.task_id, task_id),
            (_c.initiative_id, initiative_id),
        ):
            if value is not None:
                query = query.where(column == value)
        with self._read() as conn:
            return paginate(conn, query, agents, Agent, limit=limit, cursor=cursor)

    def update(self, id: str, changes: AgentUpdate) -> Agent:
        values = checked_changes(self.kind, changes, AgentUpdate)
        if not values:
            return self.get(id)
        values["updated_at"] = utcnow()
        with self._write() as conn:
            require_row(conn, agents, self.kind, id)
            _require_references(conn, values)
            if "name" in values:
                _require_free_name(conn, values["name"], other_than=id)
            return self._update_row(conn, agents, Agent, id, values)

    def delete(self, id: str) -> Removal:
        with self._write() as conn:
            require_row(conn, agents, self.kind, id)
            removal = _removal(conn, id)
            conn.execute(sql_delete(agents).where(_c.id == id))
        return removal

    def _prepared_first(self, statement: HotStatement, values: dict[str, Any]) -> Agent | None:
        found = self._select(Agent, statement, values)
        return found[0] if found else None

    def _first(self, query: Select[Any]) -> Agent | None:
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else Agent(*row)

    def _all(self, query: Select[Any]) -> list[Agent]:
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Agent(*row) for row in rows]


def _require_references(conn: Connection, values: Mapping[str, Any]) -> None:
    """Every task, initiative and account the row points at must exist."""
    for column, (table, kind) in _REFERENCES.items():
        target = values.get(column)
        if target is not None:
            require_row(conn, table, kind, target)


def _require_free_name(conn: Connection, name: str, *, other_than: str | None = None) -> None:
    query = select(_c.id).where(_c.name == name)
    if other_than is not None:
        query = query.where(_c.id != other_than)
    if conn.execute(query).first() is not None:
        raise ConflictError(f"agent name '{name}' is already taken")


def _name_taken(conn: Connection, name: str) -> bool:
    return conn.execute(select(_c.id).where(_c.name == name)).first() is not None


def _insert_with_free_alias(conn: Connection, values: dict[str, Any]) -> Agent:
    """Insert the agent under a fresh alias. On SQLite the write transaction keeps
    every other writer out between the check and the insert; on PostgreSQL another
    transaction can take the same alias meanwhile, and the insert then fails on the
    unique name, inside a savepoint, and another alias is tried."""
    for _ in range(ALIAS_ATTEMPTS):
        values["name"] = _free_alias(conn)
        try:
            with conn.begin_nested():
                row = conn.execute(insert(agents).values(values).returning(*_COLUMNS)).one()
            return Agent(*row)
        except IntegrityError as exc:
            if "agents.name" not in _unique_columns(exc):
                raise
    raise ConflictError("no free agent name after several tries; give the agent a name")


def _unique_columns(exc: IntegrityError) -> tuple[str, ...]:
    """The columns of the unique constraint ``exc`` broke (none for other failures)."""
    error = classify(exc.orig if exc.orig is not None else exc)
    if error.failure is not Failure.UNIQUE:
        return ()
    return error.columns or constraint_columns(error.constraint)


def _free_alias(conn: Connection) -> str:
    """An alias nobody holds as this transaction sees it."""
    for _ in range(ALIAS_ATTEMPTS):
        alias = random_alias()
        if not _name_taken(conn, alias):
            return alias
    # The alias space is crowded: keep the readable form, make it unique.
    while True:
        alias = f"{random_alias()}-{secrets.token_hex(2)}"
        if not _name_taken(conn, alias):
            return alias


def _count(conn: Connection, table: Table, *conditions: Any) -> int:
    return int(
        conn.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()
    )


def _removal(conn: Connection, id: str) -> Removal:
    """What deleting the agent takes along (cascades) or leaves detached/kept."""
    conv, msg = conversations.c, messages.c
    return {
        "conversations": _count(
            conn, conversations, or_(conv.from_agent_id == id, conv.to_agent_id == id)
        ),
        "proposals": _count(conn, proposals, proposals.c.agent_id == id),
        "messagesDetached": _count(
            conn, messages, or_(msg.sender_id == id, msg.recipient_id == id)
        ),
        "logChunksKept": _count(conn, agent_log_chunks, agent_log_chunks.c.agent_id == id),
    }


def _workers(rows: list[tuple[Any, ...]]) -> Workers | None:
    """``Workers`` from rows of (phase id, initiative id, the agent's columns or NULLs);
    the rows with an agent come newest first."""
    if not rows:
        return None
    phase_id, initiative_id = rows[0][0], rows[0][1]
    return Workers(phase_id, initiative_id, [Agent(*row[2:]) for row in rows if row[2] is not None])
