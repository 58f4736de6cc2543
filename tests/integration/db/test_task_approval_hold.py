"""``PlanningService.create_task(..., hold_for_approval=True)``: tasks that need
approval wait.

The API creates tasks this way, so a task whose effective approval (its flag, else
its initiative's ``merge_requires_approval``) is required is not ready before a
person approves it. Real SQLite, the real unit of work.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from crosswalk.db import Repositories
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.domain.enums import TaskStatus
from crosswalk.domain.rows import NewInitiative, NewPhase, NewTask
from crosswalk.services.planning import PlanningService

PENDING, PENDING_APPROVAL = TaskStatus.PENDING, TaskStatus.PENDING_APPROVAL


@pytest.fixture
def planning(engine: Engine, repos: Repositories) -> PlanningService:
    return PlanningService(
        initiatives=repos.initiatives,
        phases=repos.phases,
        tasks=repos.tasks,
        unit_of_work=lambda: SqlAlchemyUnitOfWork(engine),
    )


@pytest.mark.parametrize(
    ("task_flag", "initiative_flag", "expected"),
    [
        (True, False, PENDING_APPROVAL),
        (False, True, PENDING),
        (None, True, PENDING_APPROVAL),
        (None, False, PENDING),
    ],
)
def test_held_when_the_effective_approval_is_required(
    repos: Repositories,
    planning: PlanningService,
    task_flag: bool | None,
    initiative_flag: bool,
    expected: TaskStatus,
) -> None:
    owner = repos.initiatives.create(NewInitiative("x", merge_requires_approval=initiative_flag))
    phase = repos.phases.create(NewPhase(owner.id, "build"))

    task = planning.create_task(
        NewTask("code", phase_id=phase.id, requires_approval=task_flag), hold_for_approval=True
    )

    assert task.status is expected
    assert task.initiative_id == owner.id  # the flag came from the phase's initiative
    assert repos.tasks.get(task.id).status is expected
    assert [t.id for t in repos.tasks.find_ready()] == ([task.id] if expected is PENDING else [])


def test_a_task_without_initiative_or_flag_is_not_held(planning: PlanningService) -> None:
    task = planning.create_task(NewTask("orphan"), hold_for_approval=True)

    assert task.status is PENDING


@pytest.mark.parametrize("status", [TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED])
def test_an_explicit_non_pending_status_is_kept(
    repos: Repositories, planning: PlanningService, status: TaskStatus
) -> None:
    owner = repos.initiatives.create(NewInitiative("x"))

    task = planning.create_task(
        NewTask("code", initiative_id=owner.id, status=status), hold_for_approval=True
    )

    assert task.status is status


def test_without_the_option_create_stores_the_status_given(
    repos: Repositories, planning: PlanningService
) -> None:
    owner = repos.initiatives.create(NewInitiative("x", merge_requires_approval=True))

    task = planning.create_task(
        NewTask("code", initiative_id=owner.id, requires_approval=True), hold_for_approval=False
    )

    assert task.status is PENDING


def test_approving_a_held_task_makes_it_ready(
    repos: Repositories, planning: PlanningService
) -> None:
    owner = repos.initiatives.create(NewInitiative("x"))
    held = planning.create_task(NewTask("code", initiative_id=owner.id), hold_for_approval=True)
    assert repos.tasks.find_ready() == []

    planning.approve_task(held.id)

    assert [t.id for t in repos.tasks.find_ready()] == [held.id]


def test_a_hold_for_an_unknown_phase_is_refused_like_the_insert(
    planning: PlanningService, repos: Repositories
) -> None:
    from crosswalk.domain.errors import NotFoundError

    with pytest.raises(NotFoundError, match="phase 'nope' not found"):
        planning.create_task(NewTask("code", phase_id="nope"), hold_for_approval=True)
    assert repos.tasks.list_page().items == []
