"""The phase rule: a phase's status follows its tasks."""

from __future__ import annotations

import pytest

from crosswalk.domain.enums import PhaseStatus, TaskStatus
from crosswalk.services.planning import derive_phase_status

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
