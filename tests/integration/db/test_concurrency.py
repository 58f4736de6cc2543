"""Many threads writing through the repositories into one SQLite file at once.

Writers begin ``IMMEDIATE`` and wait on the busy timeout, so none of them may
fail with "database is locked", and no write may be lost.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, select, text

from crosswalk.db import engine as engine_module
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.repositories.sqlalchemy import agent as agent_module
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.conversation import SqlAlchemyConversationRepository
from crosswalk.db.repositories.sqlalchemy.log_chunk import SqlAlchemyLogChunkRepository
from crosswalk.db.schema import agent_log_chunks, agents, conversations
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.enums import AgentStatus, ConversationStatus
from crosswalk.domain.errors import CrosswalkError
from crosswalk.domain.rows import Agent, Conversation, NewAgent, NewConversation, NewLogChunk

THREADS = 8
AGENTS_PER_THREAD = 4
ROUNDS = 60  # each round: ask, read pending, answer, log, update = 4 writes + 1 read


def run_in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Start ``count`` threads together; return every exception they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return errors


def count_rows(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


def test_eight_threads_writing_at_once_lose_nothing_and_never_see_a_lock(
    engine: Engine,
) -> None:
    agent_repo = SqlAlchemyAgentRepository(engine)
    conversation_repo = SqlAlchemyConversationRepository(engine)
    log_repo = SqlAlchemyLogChunkRepository(engine)
    writes = [0] * THREADS

    def work(index: int) -> None:
        crew = [agent_repo.create(NewAgent(f"/wt/{index}/{n}")) for n in range(AGENTS_PER_THREAD)]
        writes[index] += len(crew)
        for round in range(ROUNDS):
            asker = crew[round % AGENTS_PER_THREAD]
            answerer = crew[(round + 1) % AGENTS_PER_THREAD]
            asked = conversation_repo.create(
                NewConversation(asker.id, answerer.id, f"{index}:{round}")
            )
            assert asked.id in {c.id for c in conversation_repo.find_pending_for_agent(answerer.id)}
            conversation_repo.answer(asked.id, f"answer {index}:{round}")
            log_repo.insert_chunk(NewLogChunk(asker.id, asker.name, f"{index}:{round}"))
            agent_repo.update(asker.id, {"status": AgentStatus.RUNNING, "pid": round})
            writes[index] += 4

    errors = run_in_threads(THREADS, work)

    assert errors == []
    assert all(done >= 200 for done in writes), writes
    assert count_rows(engine, agents) == THREADS * AGENTS_PER_THREAD
    assert count_rows(engine, conversations) == THREADS * ROUNDS
    assert (
        count_rows(engine, conversations, conversations.c.status == ConversationStatus.ANSWERED)
        == THREADS * ROUNDS
    )
    assert count_rows(engine, agent_log_chunks) == THREADS * ROUNDS
    names = [agent.name for agent in agent_repo.find_all()]
    assert len(set(names)) == len(names)
    # Every thread's last update is there for each of its agents.
    assert {agent.pid for agent in agent_repo.find_all()} == set(
        range(ROUNDS - AGENTS_PER_THREAD, ROUNDS)
    )


def race_to_answer(
    repo: SqlAlchemyConversationRepository, id: str
) -> tuple[list[Conversation | None], list[BaseException]]:
    """Two threads answer ``id`` at the same instant: what each got back."""
    got: list[Conversation | None] = []

    def answer(index: int) -> None:
        got.append(repo.answer(id, f"answer from {index}"))

    return got, run_in_threads(2, answer)


def test_racing_answers_exactly_one_wins(engine: Engine) -> None:
    """The answer is one conditional statement: of two at once, one changes the row and
    the other finds it no longer pending (the service then says it is answered)."""
    agent_repo = SqlAlchemyAgentRepository(engine)
    repo = SqlAlchemyConversationRepository(engine)
    asker = agent_repo.create(NewAgent("/a"))
    answerer = agent_repo.create(NewAgent("/b"))

    for attempt in range(20):
        conversation = repo.create(NewConversation(asker.id, answerer.id, f"race {attempt}"))

        got, errors = race_to_answer(repo, conversation.id)

        assert errors == []
        won = [answered for answered in got if answered is not None]
        assert len(won) == 1 and len(got) == 2, got
        stored = repo.get(conversation.id)
        assert stored == won[0]
        assert stored.status is ConversationStatus.ANSWERED


def test_a_writer_that_cannot_get_the_lock_gets_a_crosswalk_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BEGIN IMMEDIATE runs on the driver; when the lock stays taken past the busy
    timeout, the caller still gets the project's error naming what it wrote."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = engine_module.create_database_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    ensure_schema(engine)
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(CrosswalkError, match=r"agent: .*database is locked"):
            SqlAlchemyAgentRepository(engine).create(NewAgent(name="late", worktree_id="."))
        holder.rollback()
        # and the engine's connections are fine afterwards
        created = SqlAlchemyAgentRepository(engine).create(NewAgent(name="late", worktree_id="."))
        assert SqlAlchemyAgentRepository(engine).get(created.id).name == "late"
    finally:
        holder.close()
        engine.dispose()


def test_a_unit_of_work_that_cannot_begin_leaves_the_threads_connection_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a thread keeps its connection between units of work; one refused at
    BEGIN (the lock stayed taken) must not spoil the next."""
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = engine_module.create_database_engine(f"sqlite:///{tmp_path / 'held.db'}")
    ensure_schema(engine)
    agents_repo = SqlAlchemyAgentRepository(engine)
    holder = sqlite3.connect(tmp_path / "held.db", isolation_level=None)
    try:
        with SqlAlchemyUnitOfWork(engine):
            first = agents_repo.create(NewAgent(name="first", worktree_id="."))
        holder.execute("BEGIN IMMEDIATE")
        with (
            pytest.raises(CrosswalkError, match="database is locked"),
            SqlAlchemyUnitOfWork(engine),
        ):
            agents_repo.create(NewAgent(name="refused", worktree_id="."))
        holder.rollback()
        with SqlAlchemyUnitOfWork(engine):
            second = agents_repo.create(NewAgent(name="second", worktree_id="."))
        with pytest.raises(CrosswalkError), SqlAlchemyUnitOfWork(engine):
            agents_repo.create(NewAgent(name="rolled-back", worktree_id="."))
            raise CrosswalkError("changed my mind")
        names = sorted(agent.name for agent in agents_repo.find_all())
        assert names == sorted([first.name, second.name])
    finally:
        holder.close()
        engine.dispose()


def test_an_unnamed_agent_whose_alias_is_taken_meanwhile_gets_another(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another transaction registers the alias this one drew, after this one checked it
    was free (PostgreSQL lets both check; SQLite makes this one wait and see it taken):
    the new agent gets the next alias, not a conflict."""
    drawn = iter(["brave-otter", "calm-heron"])
    monkeypatch.setattr(agent_module, "random_alias", lambda: next(drawn))
    repo = SqlAlchemyAgentRepository(engine)
    created: list[Agent] = []

    with engine.connect() as other:
        other.begin()
        other.execute(
            text(
                "INSERT INTO agents (id, name, worktree_id, provider, status, mode, created_at,"
                " updated_at) VALUES ('other-agent-000000000', 'brave-otter', '.', 'claude',"
                " 'idle', 'execute', 0, 0)"
            )
        )
        racer = threading.Thread(target=lambda: created.append(repo.create(NewAgent("/wt/r"))))
        racer.start()  # PostgreSQL: its insert waits on the uncommitted name; SQLite: on the lock
        time.sleep(0.3)
        other.commit()
        racer.join(timeout=30)

    assert not racer.is_alive()
    assert [agent.name for agent in created] == ["calm-heron"]
    assert count_rows(engine, agents, agents.c.name == "brave-otter") == 1
