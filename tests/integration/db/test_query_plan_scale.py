"""At scale, the conversation statements of the hot path read only the rows they need.

The small-table test in ``test_conversations.py`` proves the index is chosen when
there is nothing else to choose; this one loads 50k conversations across many
agents (nearly all answered, as a long-running deployment accumulates them) and
checks SQLite's plan for the statements the repository really sends, both with the
planner's default guesses and after ``ANALYZE`` has given it real statistics: the
answerer's pending lookup, and every hot statement that filters on ``status`` (the
per-pair cap's count and the wait-cycle walk on the asker's side of each ask once read
the asker's whole history through ``ix_conversations_from_agent_id``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Insert, event

from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.repositories.sqlalchemy import conversation as conversation_module
from crosswalk.db.repositories.sqlalchemy._prepared import HotStatement
from crosswalk.db.repositories.sqlalchemy.conversation import SqlAlchemyConversationRepository

CONVERSATIONS = 50_000
AGENTS = 500
PENDING_FOR_PROBE = 4
INDEX = "ix_conversations_to_agent_id_status"

pytestmark = pytest.mark.sqlite_only


def _load(engine: Engine) -> str:
    """Bulk-insert agents and conversations with raw executemany; returns the probe
    agent's id: it holds a big answered share plus ``PENDING_FOR_PROBE`` pending."""
    rng = random.Random(50)
    agents = [f"agent-{n:05d}" for n in range(AGENTS)]
    probe = agents[0]
    rows: list[tuple[Any, ...]] = []
    for n in range(CONVERSATIONS):
        from_agent, to_agent = rng.sample(agents, 2)
        if n % 50 == 0:
            to_agent, from_agent = probe, agents[1]
        pending = n >= CONVERSATIONS - PENDING_FOR_PROBE
        if pending:
            to_agent, from_agent = probe, agents[1]
        status = "pending" if pending else "answered"
        rows.append((f"c{n:020d}", from_agent, to_agent, f"q{n}", status, n, n))
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        cursor.executemany(
            "INSERT INTO agents (id, name, worktree_id, provider, status, mode, created_at,"
            " updated_at) VALUES (?, ?, '.', 'claude', 'idle', 'execute', 0, 0)",
            [(agent, agent) for agent in agents],
        )
        cursor.executemany(
            "INSERT INTO conversations (id, from_agent_id, to_agent_id, question, status,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        cursor.execute("COMMIT")
        cursor.close()
    finally:
        connection.close()
    return probe


@pytest.fixture(scope="module", params=[False, True], ids=["default-stats", "analyzed"])
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, str]]:
    path: Path = tmp_path_factory.mktemp("scale") / "crosswalk.db"
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        ensure_schema(engine)
        probe = _load(engine)
        if request.param:
            with engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            engine.dispose()  # new connections load the statistics
        yield engine, probe
    finally:
        engine.dispose()


def _plan_of_pending_lookup(engine: Engine, probe: str, after_id: str | None) -> list[str]:
    sent: list[str] = []

    def trace(dbapi_connection: Any, *_: Any) -> None:
        # Traced by the driver: the repository's prepared statements bypass
        # SQLAlchemy's execution events. SQLite reports them with values inlined.
        dbapi_connection.set_trace_callback(sent.append)

    repo = SqlAlchemyConversationRepository(engine)
    event.listen(engine, "checkout", trace)
    try:
        found = repo.find_pending_for_agent(probe, after_id=after_id)
    finally:
        event.remove(engine, "checkout", trace)
        engine.dispose()  # pooled connections forget the trace
    expected = PENDING_FOR_PROBE - (1 if after_id else 0)
    assert len(found) == expected
    assert all(c.to_agent_id == probe and c.status == "pending" for c in found)
    statement = next(
        sql
        for sql in sent
        if "FROM conversations" in sql and "to_agent_id" in sql and "status" in sql
    )
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}").all()
    return [str(row[-1]) for row in plan]


@pytest.mark.parametrize("with_after_id", [False, True], ids=["all", "after-id"])
def test_pending_lookup_uses_the_to_agent_status_index_at_50k_rows(
    loaded: tuple[Engine, str], with_after_id: bool
) -> None:
    engine, probe = loaded
    after_id = f"c{CONVERSATIONS - PENDING_FOR_PROBE:020d}" if with_after_id else None

    details = _plan_of_pending_lookup(engine, probe, after_id)

    assert any(f"USING INDEX {INDEX}" in d for d in details), details
    assert not any(d.startswith("SCAN conversations") for d in details), details


HOT_STATEMENTS = {
    name: value
    for name, value in vars(conversation_module).items()
    if isinstance(value, HotStatement)
    and "conversations" in str(value.statement)
    and not isinstance(value.statement, Insert)  # writes a row, reads none
}


def test_the_hot_statements_are_all_checked() -> None:
    # A new hot statement on conversations joins the check below by being defined.
    assert {"COUNT_PENDING_BETWEEN", "WAITS_OF", "PENDING_PAGE_FOR_AGENT"} <= set(HOT_STATEMENTS)


@pytest.mark.parametrize("name", sorted(HOT_STATEMENTS))
def test_every_hot_statement_searches_by_id_or_by_pending_status(
    loaded: tuple[Engine, str], name: str
) -> None:
    """Each conversations row source is an index search on the primary key or one whose
    constraint includes ``status``: never a scan, never all of one agent's history."""
    engine, _ = loaded
    prepared = HOT_STATEMENTS[name].prepared(engine.dialect)
    keys = {key for _, key, _, _ in prepared._params if key is not None}
    values = dict.fromkeys(keys)  # SQLite plans without looking at the values
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {prepared.sql}", tuple(prepared.bind(values))
        ).all()
    details = [str(row[-1]) for row in plan if "conversations" in str(row[-1])]
    assert details, plan
    for detail in details:
        assert detail.startswith("SEARCH conversations USING"), (name, details)
        constraint = detail[detail.index("(") :]
        assert constraint == "(id=?)" or "status=?" in constraint, (name, details)
