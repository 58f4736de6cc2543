"""The phase rule: a phase's status follows its tasks."""

from __future__ import annotations

import pytest

from crosswalk.domain.enums import InitiativeStatus, PhaseStatus, TaskStatus
from crosswalk.services.planning import derive_initiative_status, derive_phase_status

P, IP, PA, C, B = (
    TaskStatus.PENDING,
    TaskStatus.IN_PROGRESS,
    TaskStatus.PENDING_APPROVAL,
    TaskStatus.COMPLETED,
    TaskStatus.BLOCKED,
)


@pytest.mark.parametrize(
    ("current", "tasks", "expected"),
    [
        (PhaseStatus.PENDING, [C, C], PhaseStatus.COMPLETED),
        (PhaseStatus.APPROVED, [P, IP], PhaseStatus.IN_PROGRESS),
        (PhaseStatus.PENDING, [C, PA], PhaseStatus.IN_PROGRESS),  # merge awaits approval
        (PhaseStatus.COMPLETED, [C, P], PhaseStatus.IN_PROGRESS),  # new work reopens it
        (PhaseStatus.APPROVED, [P, P], PhaseStatus.APPROVED),  # a person's status stays
        (PhaseStatus.BLOCKED, [B, C], PhaseStatus.BLOCKED),
        (PhaseStatus.PENDING, [], PhaseStatus.PENDING),  # no tasks: nothing to derive
    ],
)
def test_derive_phase_status(
    current: PhaseStatus, tasks: list[TaskStatus], expected: PhaseStatus
) -> None:
    assert derive_phase_status(current, tasks) is expected


ACTIVE, DONE, ARCHIVED = (
    InitiativeStatus.ACTIVE,
    InitiativeStatus.COMPLETED,
    InitiativeStatus.ARCHIVED,
)


@pytest.mark.parametrize(
    ("current", "tasks", "expected"),
    [
        (ACTIVE, [C, C], DONE),  # the last task completed
        (ACTIVE, [C, PA], ACTIVE),
        (DONE, [C, P], ACTIVE),  # new work reopens it
        (ARCHIVED, [C, C], ARCHIVED),  # a person's archive stays
        (ARCHIVED, [P], ARCHIVED),
        (ACTIVE, [], ACTIVE),  # no tasks: nothing to derive
    ],
)
def test_the_initiative_rule(
    current: InitiativeStatus, tasks: list[TaskStatus], expected: InitiativeStatus
) -> None:
    assert derive_initiative_status(current, tasks) is expected
