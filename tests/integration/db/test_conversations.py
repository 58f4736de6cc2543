"""The conversation repository (the ask/answer hot path) against a real SQLite file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, Table, event, insert

from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.conversation import SqlAlchemyConversationRepository
from crosswalk.db.schema import conversations, initiatives, phases, tasks
from crosswalk.domain.enums import ConversationStatus
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
)
from crosswalk.domain.rows import Agent, Conversation, NewAgent, NewConversation
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

PENDING, ANSWERED, ABANDONED = ConversationStatus


def insert_row(engine: Engine, table: Table, **values: Any) -> str:
    """A parent row written with Core, independent of the adapters under test."""
    now = utcnow()
    values.setdefault("id", new_id())
    for stamp in ("created_at", "updated_at"):
        if stamp in table.c:
            values.setdefault(stamp, now)
    with engine.begin() as conn:
        conn.execute(insert(table).values(values))
    return str(values["id"])


def tick() -> None:
    """Let the millisecond clock move, so creation order is observable."""
    time.sleep(0.003)


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyConversationRepository:
    return SqlAlchemyConversationRepository(engine)


@pytest.fixture
def asker(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/a", name="asker"))


@pytest.fixture
def answerer(engine: Engine) -> Agent:
    return SqlAlchemyAgentRepository(engine).create(NewAgent("/b", name="answerer"))


def ask(
    repo: SqlAlchemyConversationRepository,
    asker: Agent,
    answerer: Agent,
    question: str = "Which port?",
    **fields: Any,
) -> Conversation:
    return repo.create(NewConversation(asker.id, answerer.id, question, **fields))


# --- create --------------------------------------------------------------------


def test_create_records_a_pending_question(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent, engine: Engine
) -> None:
    initiative = insert_row(engine, initiatives, name="i")
    phase = insert_row(engine, phases, name="p", initiative_id=initiative)
    task = insert_row(engine, tasks, name="t", phase_id=phase, initiative_id=initiative)

    conversation = ask(
        repo, asker, answerer, initiative_id=initiative, phase_id=phase, task_id=task
    )

    assert len(conversation.id) == 21
    assert (conversation.from_agent_id, conversation.to_agent_id) == (asker.id, answerer.id)
    assert (conversation.initiative_id, conversation.phase_id, conversation.task_id) == (
        initiative,
        phase,
        task,
    )
    assert (conversation.question, conversation.answer) == ("Which port?", None)
    assert conversation.status is PENDING
    assert conversation.created_at == conversation.updated_at
    assert repo.get(conversation.id) == conversation


def test_a_client_chosen_id_is_stored_once(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    """Replaying a retried ask is ``ConversationService``'s (``test_service_rules.py``);
    the adapter refuses a taken id."""
    first = ask(repo, asker, answerer, id="client-chosen-id-0001")

    with pytest.raises(ConflictError, match="already taken"):
        ask(repo, asker, answerer, id=first.id)
    assert repo.list_page().items == [first]


def test_create_names_a_missing_agent_or_task(
    repo: SqlAlchemyConversationRepository, asker: Agent
) -> None:
    with pytest.raises(NotFoundError) as raised:
        repo.create(NewConversation(asker.id, "ghost", "?"))
    assert (raised.value.kind, raised.value.id) == ("agent", "ghost")
    with pytest.raises(NotFoundError, match="task 'ghost' not found"):
        repo.create(NewConversation(asker.id, asker.id, "?", task_id="ghost"))
    assert repo.list_page().items == []


# --- find_pending_for_agent -----------------------------------------------------


def test_find_pending_for_agent_is_oldest_first_and_only_pending_ones_to_that_agent(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent, engine: Engine
) -> None:
    older = ask(repo, asker, answerer, "1")
    tick()
    newer = ask(repo, asker, answerer, "2")
    tick()
    answered = ask(repo, asker, answerer, "3")
    repo.answer(answered.id, "done")
    third = SqlAlchemyAgentRepository(engine).create(NewAgent("/c", name="third"))
    ask(repo, third, asker, "to someone else")

    assert repo.find_pending_for_agent(answerer.id) == [older, newer]
    assert repo.find_pending_for_agent("nobody") == []


def test_find_pending_for_agent_after_id_returns_only_later_ones(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    made = []
    for i in range(4):
        made.append(ask(repo, asker, answerer, str(i)))
        tick()

    assert repo.find_pending_for_agent(answerer.id, after_id=made[1].id) == made[2:]
    assert repo.find_pending_for_agent(answerer.id, after_id=made[3].id) == []


def test_find_pending_for_agent_after_id_breaks_timestamp_ties_by_id(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent, engine: Engine
) -> None:
    same_moment = utcnow()
    ids = sorted(new_id() for _ in range(3))
    for id in ids:
        insert_row(
            engine,
            conversations,
            id=id,
            from_agent_id=asker.id,
            to_agent_id=answerer.id,
            question=id,
            created_at=same_moment,
            updated_at=same_moment,
        )

    pending = repo.find_pending_for_agent(answerer.id, after_id=ids[0])

    assert [c.id for c in pending] == ids[1:]


@pytest.fixture
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement SQLite runs while the test runs, parameters inlined. Traced by
    the driver, so it sees the prepared hot-path statements that bypass SQLAlchemy's
    execution events as well as everything else."""
    statements: list[tuple[str, Any]] = []

    def trace(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_trace_callback(lambda sql: statements.append((sql, ())))

    event.listen(engine, "checkout", trace)
    yield statements
    event.remove(engine, "checkout", trace)
    engine.dispose()  # pooled connections forget the trace


@pytest.mark.sqlite_only
@pytest.mark.parametrize("with_after_id", [False, True])
def test_find_pending_for_agent_is_served_by_the_to_agent_status_index(
    repo: SqlAlchemyConversationRepository,
    asker: Agent,
    answerer: Agent,
    engine: Engine,
    captured_sql: list[tuple[str, Any]],
    with_after_id: bool,
) -> None:
    first = ask(repo, asker, answerer)
    captured_sql.clear()

    repo.find_pending_for_agent(answerer.id, after_id=first.id if with_after_id else None)

    statement, parameters = next(
        (sql, params)
        for sql, params in captured_sql
        if "FROM conversations" in sql and "status" in sql and "to_agent_id" in sql
    )
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    details = [row[-1] for row in plan]
    assert any("USING INDEX ix_conversations_to_agent_id_status" in d for d in details), details
    assert not any(d.startswith("SCAN conversations") for d in details), details


# --- answer --------------------------------------------------------------------


def test_answer_moves_pending_to_answered(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    conversation = ask(repo, asker, answerer)
    tick()

    answered = repo.answer(conversation.id, "7878")

    assert answered is not None
    assert (answered.status, answered.answer) == (ANSWERED, "7878")
    assert answered.updated_at > conversation.updated_at
    assert answered.created_at == conversation.created_at
    assert repo.get(conversation.id) == answered
    assert repo.find_pending_for_agent(answerer.id) == []


def test_a_second_answer_or_an_unknown_id_changes_nothing(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    conversation = ask(repo, asker, answerer)
    answered = repo.answer(conversation.id, "first")
    tick()

    assert repo.answer(conversation.id, "second") is None
    assert repo.answer("nope", "x") is None
    assert repo.get(conversation.id) == answered


def test_an_answer_addressed_to_another_agent_changes_nothing(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    conversation = ask(repo, asker, answerer)

    assert repo.answer(conversation.id, "not mine", addressed_to=asker.id) is None
    assert repo.get(conversation.id) == conversation
    answered = repo.answer(conversation.id, "mine", addressed_to=answerer.id)
    assert answered is not None and (answered.status, answered.answer) == (ANSWERED, "mine")


def test_get_of_an_unknown_id_is_not_found(repo: SqlAlchemyConversationRepository) -> None:
    with pytest.raises(NotFoundError, match="conversation 'nope' not found"):
        repo.get("nope")
    assert repo.find_by_id("nope") is None


# --- list_page -----------------------------------------------------------------


def test_list_page_is_newest_first_and_walks_everything_once(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    made = [ask(repo, asker, answerer, str(i)) for i in range(7)]

    seen, cursor = [], None
    while True:
        page = repo.list_page(limit=3, cursor=cursor)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == sorted(made, key=lambda c: (c.created_at, c.id), reverse=True)


def test_list_page_filters(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent, engine: Engine
) -> None:
    third = SqlAlchemyAgentRepository(engine).create(NewAgent("/c"))
    initiative = insert_row(engine, initiatives, name="i")
    phase = insert_row(engine, phases, name="p", initiative_id=initiative)
    task = insert_row(engine, tasks, name="t", phase_id=phase, initiative_id=initiative)
    back = ask(repo, answerer, asker)
    repo.answer(back.id, "ok")
    scoped = ask(repo, asker, answerer, initiative_id=initiative, phase_id=phase, task_id=task)
    other = ask(repo, third, answerer)

    def ids(page_items: list[Conversation]) -> set[str]:
        return {c.id for c in page_items}

    assert ids(repo.list_page(agent_id=asker.id).items) == {scoped.id, back.id}
    assert ids(repo.list_page(agent_id=third.id).items) == {other.id}
    assert ids(repo.list_page(status=ANSWERED).items) == {back.id}
    assert ids(repo.list_page(agent_id=asker.id, status=PENDING).items) == {scoped.id}
    for key, value in (("initiative_id", initiative), ("phase_id", phase), ("task_id", task)):
        assert ids(repo.list_page(**{key: value}).items) == {scoped.id}


def test_list_page_refuses_a_bad_cursor_or_limit(repo: SqlAlchemyConversationRepository) -> None:
    with pytest.raises(InvalidInputError, match="cursor"):
        repo.list_page(cursor="!!!not-a-cursor")
    with pytest.raises(InvalidInputError, match="limit"):
        repo.list_page(limit=0)


# --- abandoned questions -------------------------------------------


def test_abandon_ends_every_pending_question_to_the_agent_with_the_reason(
    repo: SqlAlchemyConversationRepository, asker: Agent, answerer: Agent
) -> None:
    pending = [ask(repo, asker, answerer, f"q{n}") for n in range(2)]
    answered = repo.answer(ask(repo, asker, answerer, "q-answered").id, "yes")
    assert answered is not None
    abandoned = repo.abandon_pending_to(answerer.id, "agent answerer crashed")
    assert sorted(c.id for c in abandoned) == sorted(c.id for c in pending)
    assert {(c.status, c.abandoned_reason) for c in abandoned} == {
        (ABANDONED, "agent answerer crashed")
    }
    assert repo.get(answered.id).status is ANSWERED
    assert repo.find_pending_for_agent(answerer.id) == []
    assert repo.answer(pending[0].id, "too late") is None
