"""Two servers doing the same thing at the same instant, on SQLite and PostgreSQL.

Each "server" is its own engine (its own connection pool) and its own services on the
same database, and the two calls start together behind a barrier. SQLite orders them with its single
writer; PostgreSQL (read committed) needs the repositories' own serialization. Each
race is run many times: one lost race is enough to fail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from tests.integration.db.test_concurrency import run_in_threads

from crosswalk.db.engine import create_database_engine
from crosswalk.db.schema import conversations, messages, phase_dependencies, task_dependencies
from crosswalk.domain.enums import ConversationStatus, ParticipantType, TaskStatus
from crosswalk.domain.errors import ConflictError, DependencyCycleError, PreconditionFailedError
from crosswalk.domain.rows import (
    NewAccount,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewMessage,
    NewPhase,
    NewTask,
)
from crosswalk.ids import new_id
from crosswalk.server.app import build_services
from crosswalk.server.context import Services
from crosswalk.services.targets import AgentTarget

ROUNDS = 15


@pytest.fixture
def second_engine(database_url: str, engine: Engine) -> Iterator[Engine]:
    """Another server's engine on the same database."""
    other = create_database_engine(database_url)
    yield other
    other.dispose()


@pytest.fixture
def servers(engine: Engine, second_engine: Engine) -> tuple[Services, Services]:
    return build_services(engine, "token"), build_services(second_engine, "token")


def race(calls: tuple[Callable[[], Any], Callable[[], Any]]) -> tuple[list[Any], list[Any]]:
    """Run both calls at once; what they returned and what they raised."""
    results: list[Any] = []

    def work(index: int) -> None:
        results.append(calls[index]())

    errors = run_in_threads(2, work)
    return results, errors


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_opposite_task_dependencies_at_once_never_store_a_cycle(
    servers: tuple[Services, Services], engine: Engine
) -> None:
    a, b = servers
    initiative = a.repos.initiatives.create(NewInitiative("race"))
    for _ in range(ROUNDS):
        first = a.repos.tasks.create(NewTask("first", initiative_id=initiative.id))
        second = a.repos.tasks.create(NewTask("second", initiative_id=initiative.id))

        added, errors = race(
            (
                partial(a.planning.add_task_dependency, first.id, second.id),
                partial(b.planning.add_task_dependency, second.id, first.id),
            )
        )

        assert len(added) == 1, (added, errors)
        assert len(errors) == 1 and isinstance(errors[0], DependencyCycleError), errors
        edges = task_dependencies.c.task_id.in_([first.id, second.id])
        assert count(engine, task_dependencies, edges) == 1


def test_opposite_phase_dependencies_at_once_never_store_a_cycle(
    servers: tuple[Services, Services], engine: Engine
) -> None:
    a, b = servers
    initiative = a.repos.initiatives.create(NewInitiative("race"))
    for _ in range(ROUNDS):
        first = a.repos.phases.create(NewPhase(initiative.id, "first"))
        second = a.repos.phases.create(NewPhase(initiative.id, "second"))

        added, errors = race(
            (
                partial(a.planning.add_phase_dependency, first.id, second.id),
                partial(b.planning.add_phase_dependency, second.id, first.id),
            )
        )

        assert len(added) == 1, (added, errors)
        assert len(errors) == 1 and isinstance(errors[0], DependencyCycleError), errors
        edges = phase_dependencies.c.phase_id.in_([first.id, second.id])
        assert count(engine, phase_dependencies, edges) == 1


def test_two_answers_from_two_servers_never_both_win(
    servers: tuple[Services, Services],
) -> None:
    a, b = servers
    asker = a.repos.agents.create(NewAgent("/a"))
    answerer = a.repos.agents.create(NewAgent("/b"))
    for attempt in range(ROUNDS):
        asked = a.repos.conversations.create(NewConversation(asker.id, answerer.id, f"q{attempt}"))

        won, errors = race(
            (
                partial(a.conversations.answer, asked.id, "from A"),
                partial(b.conversations.answer, asked.id, "from B"),
            )
        )

        assert len(won) == 1 and len(errors) == 1, (won, errors)
        assert isinstance(errors[0], ConflictError)
        stored = a.repos.conversations.get(asked.id)
        assert stored.status is ConversationStatus.ANSWERED
        assert stored.answer == won[0].answer


def test_a_retried_ask_racing_itself_asks_once(
    servers: tuple[Services, Services], engine: Engine
) -> None:
    a, b = servers
    asker = a.repos.agents.create(NewAgent("/a"))
    answerer = a.repos.agents.create(NewAgent("/b"))
    for attempt in range(ROUNDS):
        id = new_id()
        ask = (asker.id, f"q{attempt}", AgentTarget(answerer.id))

        asked, errors = race(
            (partial(a.conversations.ask, *ask, id=id), partial(b.conversations.ask, *ask, id=id))
        )

        assert errors == []
        assert asked[0] == asked[1]
        assert count(engine, conversations, conversations.c.id == id) == 1


def test_a_retried_question_to_the_person_racing_itself_is_stored_once(
    servers: tuple[Services, Services], engine: Engine
) -> None:
    a, b = servers
    asker = a.repos.agents.create(NewAgent("/a"))
    for attempt in range(ROUNDS):
        question = NewMessage(
            sender_type=ParticipantType.AGENT,
            sender_id=asker.id,
            recipient_type=ParticipantType.USER,
            content=f"may I? {attempt}",
            requires_response=True,
            id=new_id(),
        )

        stored, errors = race(
            (
                partial(a.human_questions.send, question),
                partial(b.human_questions.send, question),
            )
        )

        assert errors == []
        assert stored[0] == stored[1]
        assert count(engine, messages, messages.c.id == question.id) == 1


def test_a_task_is_approved_once_when_two_servers_approve_it(
    servers: tuple[Services, Services],
) -> None:
    a, b = servers
    initiative = a.repos.initiatives.create(NewInitiative("race"))
    for _ in range(ROUNDS):
        task = a.repos.tasks.create(
            NewTask("gate", initiative_id=initiative.id, status=TaskStatus.PENDING_APPROVAL)
        )

        # What approving a task that never ran does (dispatch/landing.py): one
        # conditional move from pending_approval.
        approve = {"to": TaskStatus.PENDING, "expected": [TaskStatus.PENDING_APPROVAL]}
        approved, errors = race(
            (
                partial(a.planning.move_task, task.id, **approve),
                partial(b.planning.move_task, task.id, **approve),
            )
        )

        assert len(approved) == 1, (approved, errors)
        assert len(errors) == 1 and isinstance(errors[0], PreconditionFailedError), errors
        assert a.repos.tasks.get(task.id).status is TaskStatus.PENDING


def test_two_servers_picking_accounts_at_once_get_different_ones(
    servers: tuple[Services, Services],
) -> None:
    a, b = servers
    for attempt in range(ROUNDS):
        provider = f"provider-{attempt}"
        for index in range(2):
            a.repos.accounts.create(NewAccount(f"{attempt}-{index}@example.com", provider=provider))

        picked, errors = race(
            (
                partial(a.accounts.next_available, provider),
                partial(b.accounts.next_available, provider),
            )
        )

        assert errors == []
        assert len({account.id for account in picked}) == 2, picked
