"""The ``TaskRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import PhaseStatus, TaskPriority, TaskStatus, TaskType
from crosswalk.domain.errors import ConflictError, NotFoundError, PreconditionFailedError
from crosswalk.domain.rows import Initiative, NewInitiative, NewPhase, NewTask

PENDING, COMPLETED = TaskStatus.PENDING, TaskStatus.COMPLETED


def _initiative(ports: Ports, *, approval: bool = False) -> Initiative:
    return ports.initiatives.create(NewInitiative("auth", merge_requires_approval=approval))


def test_a_task_inherits_its_initiative_and_approval(ports: Ports) -> None:
    initiative = _initiative(ports, approval=True)
    phase = ports.phases.create(NewPhase(initiative.id, "build"))
    tasks = ports.tasks

    in_phase = tasks.create(NewTask("code", phase_id=phase.id))
    subtask = tasks.create(NewTask("test", parent_task_id=in_phase.id))
    loose = tasks.create(NewTask("loose"))

    assert (in_phase.initiative_id, subtask.initiative_id) == (initiative.id, initiative.id)
    assert loose.initiative_id is None and loose.status is PENDING
    assert tasks.requires_approval(in_phase.id) is True
    assert tasks.requires_approval(loose.id) is False
    with pytest.raises(NotFoundError, match="phase 'ghost' not found"):
        tasks.create(NewTask("x", phase_id="ghost"))
    assert tasks.find_by_phase_id(phase.id) == [in_phase]
    assert tasks.find_by_parent_task_id(in_phase.id) == [subtask]
    assert tasks.find_by_initiative_id(initiative.id) == [in_phase, subtask]


def test_approval_and_readiness(ports: Ports) -> None:
    initiative = _initiative(ports)
    tasks = ports.tasks
    low = tasks.create(NewTask("low", initiative_id=initiative.id, priority=TaskPriority.LOW))
    high = tasks.create(NewTask("high", initiative_id=initiative.id, priority=TaskPriority.HIGH))
    held = tasks.create(
        NewTask("held", initiative_id=initiative.id, status=TaskStatus.PENDING_APPROVAL)
    )
    waits = tasks.create(NewTask("waits", initiative_id=initiative.id))
    tasks.create_dependency(waits.id, high.id)

    assert tasks.find_ready(initiative_id=initiative.id) == [high, low]
    assert tasks.find_pending_approval(initiative.id) == [held]
    approved = tasks.transition(held.id, PENDING, expected=[TaskStatus.PENDING_APPROVAL])
    assert approved.status is PENDING
    with pytest.raises(PreconditionFailedError, match="is pending, not pending_approval"):
        tasks.transition(held.id, PENDING, expected=[TaskStatus.PENDING_APPROVAL])
    done = tasks.update(high.id, {"status": COMPLETED})
    assert done.status is COMPLETED and done.updated_at > high.updated_at
    assert [t.name for t in tasks.find_ready()] == ["held", "waits", "low"]
    assert tasks.list_page(status=COMPLETED).items == [done]


def test_claims_take_a_pending_task_once_within_the_limit(ports: Ports) -> None:
    initiative = _initiative(ports)
    tasks = ports.tasks
    first, second, third = (
        tasks.create(NewTask(name, initiative_id=initiative.id)) for name in "abc"
    )
    check = tasks.create(NewTask("verify", initiative_id=initiative.id, type=TaskType.HUMAN_VERIFY))
    assert tasks.claim(check.id) is not None  # a checkpoint takes no agent slot
    claimed = tasks.claim(first.id, max_in_progress=2)
    assert claimed is not None and claimed.status is TaskStatus.IN_PROGRESS
    assert tasks.claim(first.id, max_in_progress=2) is None  # never twice
    assert tasks.claim(second.id, max_in_progress=2) is not None
    assert tasks.claim(third.id, max_in_progress=2) is None  # the limit is full
    tasks.transition(first.id, COMPLETED)
    assert tasks.claim(third.id, max_in_progress=2) is not None


def test_a_task_waits_for_the_phases_its_phase_depends_on(ports: Ports) -> None:
    initiative = _initiative(ports)
    build = ports.phases.create(NewPhase(initiative.id, "build"))
    ship = ports.phases.create(NewPhase(initiative.id, "ship"))
    ports.phases.create_dependency(ship.id, build.id)
    code = ports.tasks.create(NewTask("code", phase_id=build.id))
    deploy = ports.tasks.create(NewTask("deploy", phase_id=ship.id))
    assert ports.tasks.find_ready() == [code]
    ports.phases.update(build.id, {"status": PhaseStatus.COMPLETED})
    assert ports.tasks.find_ready() == [code, deploy]


def test_dependencies_and_delete_with_subtasks(ports: Ports) -> None:
    initiative = _initiative(ports)
    tasks = ports.tasks
    root = tasks.create(NewTask("root", initiative_id=initiative.id))
    child = tasks.create(NewTask("child", parent_task_id=root.id))
    grandchild = tasks.create(NewTask("grandchild", parent_task_id=child.id))
    other = tasks.create(NewTask("other", initiative_id=initiative.id))
    edge = tasks.create_dependency(other.id, child.id)

    assert tasks.find_dependency(other.id, child.id) == edge
    assert tasks.prerequisite_ids(other.id) == [child.id]
    assert tasks.get_dependents(child.id) == [other]
    assert tasks.get_dependencies(other.id) == [child]
    with pytest.raises(ConflictError):
        tasks.create_dependency(other.id, child.id)
    with pytest.raises(NotFoundError, match="task 'ghost' not found"):
        tasks.create_dependency("ghost", child.id)
    tasks.lock_dependency_graph(initiative.id)  # nothing to hold outside a transaction
    assert tasks.subtask_ids(root.id) == sorted([child.id, grandchild.id])

    removal = tasks.delete(root.id)

    assert (removal["tasks"], removal["taskDependencies"]) == (2, 1)
    assert tasks.find_all() == [other]
    assert tasks.prerequisite_ids(other.id) == []
    with pytest.raises(NotFoundError, match="does not depend on"):
        tasks.remove_dependency(other.id, other.id)


def test_find_by_ref_puts_the_id_first_then_the_names_then_the_id_prefixes(ports: Ports) -> None:
    tasks = ports.tasks
    api = tasks.create(NewTask("api"))
    other_api = tasks.create(NewTask("api"))
    # 62 first characters an id may start with: 63 tasks share one for sure
    many = [tasks.create(NewTask(f"task {n}")) for n in range(63)]
    named_like_an_id = tasks.create(NewTask(api.id))

    assert tasks.find_by_ref(api.id, 5)[:2] == [api, named_like_an_id]  # the id first
    assert tasks.find_by_ref("api", 5)[:2] == [api, other_api]
    start = many[7].id[:-1]
    assert many[7] in tasks.find_by_ref(start, 100)
    assert all(task.id.startswith(start) for task in tasks.find_by_ref(start, 100))
    first: dict[str, list[str]] = {}
    for task in [api, other_api, *many, named_like_an_id]:
        first.setdefault(task.id[0], []).append(task.id)
    shared = next(ids for ids in first.values() if len(ids) > 1)
    found = tasks.find_by_ref(shared[0][0], 100)
    assert sorted(task.id for task in found) == sorted(shared)
    assert len(tasks.find_by_ref(shared[0][0], 1)) == 1
    assert tasks.find_by_ref("nothing-like-it", 5) == []
