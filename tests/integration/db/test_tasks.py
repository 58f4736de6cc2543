"""The task repository against a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, Table, event, func, select

from crosswalk.db import Repositories
from crosswalk.db.schema import task_dependencies, tasks
from crosswalk.domain.enums import TaskCategory, TaskPriority, TaskStatus, TaskType
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import (
    Initiative,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewPhase,
    NewTask,
    Phase,
    Task,
)
from crosswalk.ids import ID_LENGTH

HIGH, MEDIUM, LOW = TaskPriority.HIGH, TaskPriority.MEDIUM, TaskPriority.LOW
PENDING, PENDING_APPROVAL = TaskStatus.PENDING, TaskStatus.PENDING_APPROVAL
IN_PROGRESS, COMPLETED = TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("auth"))


@pytest.fixture
def other_initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("billing"))


@pytest.fixture
def phase(repos: Repositories, initiative: Initiative) -> Phase:
    return repos.phases.create(NewPhase(initiative.id, "build"))


def make(repos: Repositories, initiative: Initiative, *names: str, **fields: Any) -> list[Task]:
    return [
        repos.tasks.create(NewTask(name, initiative_id=initiative.id, **fields)) for name in names
    ]


def ids(rows: list[Task]) -> list[str]:
    return [row.id for row in rows]


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the test runs."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


# --- create -----------------------------------------------------------------------


def test_create_returns_the_written_row_with_defaults(
    repos: Repositories, initiative: Initiative
) -> None:
    task = repos.tasks.create(NewTask("code", initiative_id=initiative.id))

    assert len(task.id) == ID_LENGTH
    assert (task.name, task.initiative_id, task.phase_id, task.parent_task_id) == (
        "code",
        initiative.id,
        None,
        None,
    )
    assert (task.type, task.category, task.priority, task.status) == (
        TaskType.AUTO,
        TaskCategory.EXECUTE,
        MEDIUM,
        PENDING,
    )
    assert (task.requires_approval, task.order, task.description) == (None, 0, None)
    assert task.created_at == task.updated_at
    assert repos.tasks.get(task.id) == task


def test_a_task_in_a_phase_takes_the_phases_initiative(
    repos: Repositories, initiative: Initiative, phase: Phase
) -> None:
    task = repos.tasks.create(NewTask("code", phase_id=phase.id))

    assert task.initiative_id == initiative.id


def test_a_subtask_takes_its_parents_initiative(
    repos: Repositories, initiative: Initiative
) -> None:
    (parent,) = make(repos, initiative, "plan")

    child = repos.tasks.create(NewTask("step", parent_task_id=parent.id))

    assert child.initiative_id == initiative.id
    assert repos.tasks.find_by_parent_task_id(parent.id) == [child]


def test_a_phase_of_another_initiative_is_invalid(
    repos: Repositories, other_initiative: Initiative, phase: Phase, engine: Engine
) -> None:
    with pytest.raises(InvalidInputError, match=f"phase '{phase.id}' belongs to initiative"):
        repos.tasks.create(NewTask("x", phase_id=phase.id, initiative_id=other_initiative.id))
    assert count(engine, tasks) == 0


def test_a_parent_in_another_initiative_is_invalid(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative, engine: Engine
) -> None:
    (parent,) = make(repos, other_initiative, "theirs")

    with pytest.raises(InvalidInputError, match=f"parent task '{parent.id}' belongs to"):
        repos.tasks.create(NewTask("x", initiative_id=initiative.id, parent_task_id=parent.id))
    assert count(engine, tasks) == 1


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"initiative_id": "ghost"}, "initiative"),
        ({"phase_id": "ghost"}, "phase"),
        ({"parent_task_id": "ghost"}, "task"),
    ],
)
def test_a_missing_reference_is_named(
    repos: Repositories, engine: Engine, fields: dict[str, str], kind: str
) -> None:
    with pytest.raises(NotFoundError, match=rf"^{kind} 'ghost' not found$") as raised:
        repos.tasks.create(NewTask("x", **fields))

    assert (raised.value.kind, raised.value.id) == (kind, "ghost")
    assert count(engine, tasks) == 0


# --- read -------------------------------------------------------------------------


def test_unknown_ids_are_not_found(repos: Repositories) -> None:
    assert repos.tasks.find_by_id("x1") is None
    for call in (
        lambda: repos.tasks.get("x1"),
        lambda: repos.tasks.update("x1", {"name": "y"}),
        lambda: repos.tasks.update("x1", {}),
        lambda: repos.tasks.delete("x1"),
        lambda: repos.tasks.approve("x1"),
        lambda: repos.tasks.requires_approval("x1"),
    ):
        with pytest.raises(NotFoundError, match=r"^task 'x1' not found$"):
            call()


def test_finders_filter_and_keep_the_planned_order(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative, phase: Phase
) -> None:
    third = repos.tasks.create(NewTask("third", phase_id=phase.id, order=3))
    first = repos.tasks.create(NewTask("first", phase_id=phase.id, order=1))
    also_first = repos.tasks.create(NewTask("also first", phase_id=phase.id, order=1))
    loose = repos.tasks.create(NewTask("loose", initiative_id=initiative.id, order=2))
    (elsewhere,) = make(repos, other_initiative, "elsewhere")

    assert ids(repos.tasks.find_by_phase_id(phase.id)) == ids([first, also_first, third])
    assert ids(repos.tasks.find_by_initiative_id(initiative.id)) == ids(
        [first, also_first, loose, third]
    )
    assert ids(repos.tasks.find_all()) == ids([third, first, also_first, loose, elsewhere])
    assert repos.tasks.find_by_phase_id("ghost") == []


def test_list_page_filters_and_pages(
    repos: Repositories, initiative: Initiative, phase: Phase
) -> None:
    in_phase = [repos.tasks.create(NewTask(f"t{n}", phase_id=phase.id)) for n in range(3)]
    (parent,) = make(repos, initiative, "parent", status=COMPLETED)
    child = repos.tasks.create(NewTask("child", parent_task_id=parent.id))

    first = repos.tasks.list_page(phase_id=phase.id, limit=2)
    rest = repos.tasks.list_page(phase_id=phase.id, limit=2, cursor=first.next_cursor)

    assert ids(first.items + rest.items) == ids(in_phase)
    assert rest.next_cursor is None
    assert repos.tasks.list_page(parent_task_id=parent.id).items == [child]
    assert repos.tasks.list_page(status=COMPLETED).items == [parent]
    assert len(repos.tasks.list_page(initiative_id=initiative.id).items) == 5


# --- update -----------------------------------------------------------------------


def test_update_changes_fields_and_moves_updated_at(
    repos: Repositories, initiative: Initiative
) -> None:
    (task,) = make(repos, initiative, "code")

    updated = repos.tasks.update(
        task.id,
        {"name": "review", "priority": HIGH, "status": IN_PROGRESS, "requires_approval": True},
    )

    assert (updated.name, updated.priority, updated.status, updated.requires_approval) == (
        "review",
        HIGH,
        IN_PROGRESS,
        True,
    )
    assert updated.created_at == task.created_at
    assert updated.updated_at > task.updated_at
    assert repos.tasks.get(task.id) == updated


def test_an_empty_update_returns_the_row_unchanged(
    repos: Repositories, initiative: Initiative
) -> None:
    (task,) = make(repos, initiative, "code")

    assert repos.tasks.update(task.id, {}) == task
    assert repos.tasks.get(task.id) == task


def test_a_new_parent_must_not_make_the_task_its_own_ancestor(
    repos: Repositories, initiative: Initiative
) -> None:
    (top,) = make(repos, initiative, "top")
    middle = repos.tasks.create(NewTask("middle", parent_task_id=top.id))
    bottom = repos.tasks.create(NewTask("bottom", parent_task_id=middle.id))

    with pytest.raises(InvalidInputError) as raised:
        repos.tasks.update(top.id, {"parent_task_id": bottom.id})
    with pytest.raises(InvalidInputError, match="its own ancestor"):
        repos.tasks.update(top.id, {"parent_task_id": top.id})

    assert raised.value.message == (
        f"task '{top.id}' cannot become a subtask of '{bottom.id}': it would be its own "
        f"ancestor ({top.id} -> {bottom.id} -> {middle.id} -> {top.id})"
    )
    assert repos.tasks.get(top.id).parent_task_id is None


def test_moving_a_subtask_within_the_tree_is_allowed(
    repos: Repositories, initiative: Initiative
) -> None:
    first, second = make(repos, initiative, "first", "second")
    child = repos.tasks.create(NewTask("child", parent_task_id=first.id))

    moved = repos.tasks.update(child.id, {"parent_task_id": second.id})
    detached = repos.tasks.update(child.id, {"parent_task_id": None})

    assert moved.parent_task_id == second.id
    assert detached.parent_task_id is None


def test_a_move_out_of_the_initiative_is_invalid(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative, phase: Phase
) -> None:
    (task,) = make(repos, initiative, "code")
    (foreign_task,) = make(repos, other_initiative, "theirs")
    foreign_phase = repos.phases.create(NewPhase(other_initiative.id, "theirs"))

    with pytest.raises(InvalidInputError, match=f"phase '{foreign_phase.id}'"):
        repos.tasks.update(task.id, {"phase_id": foreign_phase.id})
    with pytest.raises(InvalidInputError, match=f"parent task '{foreign_task.id}'"):
        repos.tasks.update(task.id, {"parent_task_id": foreign_task.id})
    with pytest.raises(NotFoundError, match=r"^phase 'ghost' not found$"):
        repos.tasks.update(task.id, {"phase_id": "ghost"})

    assert repos.tasks.update(task.id, {"phase_id": phase.id}).phase_id == phase.id


def test_update_refuses_unknown_fields_and_values(
    repos: Repositories, initiative: Initiative
) -> None:
    (task,) = make(repos, initiative, "code")
    bogus_field: Any = {"initiative_id": "other"}
    bogus_priority: Any = {"priority": "urgent"}

    with pytest.raises(InvalidInputError, match="no field 'initiative_id'"):
        repos.tasks.update(task.id, bogus_field)
    with pytest.raises(InvalidInputError, match="urgent"):
        repos.tasks.update(task.id, bogus_priority)
    assert repos.tasks.get(task.id) == task


# --- delete -----------------------------------------------------------------------


def test_delete_takes_subtasks_and_dependencies_and_detaches_agents(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    parent, sibling = make(repos, initiative, "parent", "sibling")
    child = repos.tasks.create(NewTask("child", parent_task_id=parent.id))
    grandchild = repos.tasks.create(NewTask("grandchild", parent_task_id=child.id))
    repos.tasks.create_dependency(sibling.id, grandchild.id)
    repos.tasks.create_dependency(child.id, sibling.id)
    worker = repos.agents.create(NewAgent("/wt1", task_id=grandchild.id))
    helper = repos.agents.create(NewAgent("/wt2", task_id=sibling.id))
    repos.conversations.create(NewConversation(worker.id, helper.id, "?", task_id=parent.id))

    removal = repos.tasks.delete(parent.id)

    assert removal == {
        "tasks": 2,
        "taskDependencies": 2,
        "agentsDetached": 1,
        "conversationsDetached": 1,
    }
    assert ids(repos.tasks.find_all()) == [sibling.id]
    assert count(engine, task_dependencies) == 0
    assert repos.agents.get(worker.id).task_id is None
    assert repos.agents.get(helper.id).task_id == sibling.id


# --- dependencies -----------------------------------------------------------------


def test_dependencies_link_tasks_both_ways(repos: Repositories, initiative: Initiative) -> None:
    design, build, ship = make(repos, initiative, "design", "build", "ship")

    dependency = repos.tasks.create_dependency(ship.id, build.id)
    repos.tasks.create_dependency(ship.id, design.id)

    assert (dependency.task_id, dependency.depends_on_task_id) == (ship.id, build.id)
    assert ids(repos.tasks.get_dependencies(ship.id)) == [design.id, build.id]
    assert repos.tasks.get_dependents(build.id) == [ship]
    assert repos.tasks.get_dependencies(design.id) == []


def test_an_edge_is_stored_once(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    """The rules of the graph (one initiative, no cycle, retries) are PlanningService's
    (``test_service_rules.py``); the adapter only refuses storing an edge twice."""
    build, ship = make(repos, initiative, "build", "ship")
    first = repos.tasks.create_dependency(ship.id, build.id)

    assert repos.tasks.find_dependency(ship.id, build.id) == first
    assert repos.tasks.find_dependency(build.id, ship.id) is None
    assert repos.tasks.prerequisite_ids(ship.id) == [build.id]
    with pytest.raises(ConflictError):
        repos.tasks.create_dependency(ship.id, build.id)
    assert count(engine, task_dependencies) == 1


def test_dependencies_on_unknown_tasks_name_the_missing_one(
    repos: Repositories, initiative: Initiative
) -> None:
    (task,) = make(repos, initiative, "code")

    for call in (
        lambda: repos.tasks.create_dependency(task.id, "ghost"),
        lambda: repos.tasks.create_dependency("ghost", task.id),
        lambda: repos.tasks.remove_dependency("ghost", task.id),
    ):
        with pytest.raises(NotFoundError, match=r"^task 'ghost' not found$"):
            call()


def test_remove_dependency(repos: Repositories, initiative: Initiative) -> None:
    build, ship = make(repos, initiative, "build", "ship")
    repos.tasks.create_dependency(ship.id, build.id)

    repos.tasks.remove_dependency(ship.id, build.id)

    assert repos.tasks.get_dependencies(ship.id) == []
    with pytest.raises(NotFoundError, match=f"task '{ship.id}' does not depend on task"):
        repos.tasks.remove_dependency(ship.id, build.id)


# --- approval ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_flag", "initiative_flag", "expected"),
    [
        (True, False, True),
        (False, True, False),
        (None, True, True),
        (None, False, False),
    ],
)
def test_requires_approval_is_the_tasks_flag_else_the_initiatives(
    repos: Repositories, task_flag: bool | None, initiative_flag: bool, expected: bool
) -> None:
    owner = repos.initiatives.create(NewInitiative("x", merge_requires_approval=initiative_flag))
    (task,) = make(repos, owner, "code", requires_approval=task_flag)

    assert repos.tasks.requires_approval(task.id) is expected


def test_a_task_without_initiative_or_flag_needs_no_approval(repos: Repositories) -> None:
    task = repos.tasks.create(NewTask("orphan"))

    assert repos.tasks.requires_approval(task.id) is False


def test_approve_moves_pending_approval_to_pending(
    repos: Repositories, initiative: Initiative
) -> None:
    (task,) = make(repos, initiative, "code", status=PENDING_APPROVAL)

    approved = repos.tasks.approve(task.id)

    assert approved.status is PENDING
    assert approved.updated_at > task.updated_at
    assert repos.tasks.get(task.id) == approved


@pytest.mark.parametrize("status", [PENDING, IN_PROGRESS, COMPLETED, TaskStatus.BLOCKED])
def test_approve_refuses_any_other_status_naming_it(
    repos: Repositories, initiative: Initiative, status: TaskStatus
) -> None:
    (task,) = make(repos, initiative, "code", status=status)

    with pytest.raises(PreconditionFailedError, match=f"is {status.value}, not pending_approval"):
        repos.tasks.approve(task.id)
    assert repos.tasks.get(task.id) == task


def test_find_pending_approval(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative
) -> None:
    mine = make(repos, initiative, "a", "b", status=PENDING_APPROVAL)
    make(repos, initiative, "c", status=PENDING)
    theirs = make(repos, other_initiative, "d", status=PENDING_APPROVAL)

    assert ids(repos.tasks.find_pending_approval()) == ids(mine + theirs)
    assert ids(repos.tasks.find_pending_approval(initiative.id)) == ids(mine)
    repos.tasks.approve(mine[0].id)
    assert ids(repos.tasks.find_pending_approval(initiative.id)) == [mine[1].id]


# --- readiness --------------------------------------------------------------------


def test_find_ready_needs_pending_status_and_completed_dependencies(
    repos: Repositories, initiative: Initiative
) -> None:
    done, running, free, after_done, after_running, gated = make(
        repos, initiative, "done", "running", "free", "after done", "after running", "gated"
    )
    repos.tasks.update(done.id, {"status": COMPLETED})
    repos.tasks.update(running.id, {"status": IN_PROGRESS})
    repos.tasks.create_dependency(after_done.id, done.id)
    repos.tasks.create_dependency(after_running.id, running.id)
    repos.tasks.create_dependency(after_running.id, done.id)
    repos.tasks.update(gated.id, {"status": PENDING_APPROVAL})

    assert ids(repos.tasks.find_ready()) == [free.id, after_done.id]

    repos.tasks.update(running.id, {"status": COMPLETED})
    repos.tasks.approve(gated.id)
    assert ids(repos.tasks.find_ready()) == [free.id, after_done.id, after_running.id, gated.id]


def test_find_ready_orders_by_priority_then_order_then_creation(
    repos: Repositories, initiative: Initiative
) -> None:
    low = repos.tasks.create(NewTask("low", initiative_id=initiative.id, priority=LOW))
    medium_late = repos.tasks.create(
        NewTask("medium 2", initiative_id=initiative.id, priority=MEDIUM, order=2)
    )
    medium_early = repos.tasks.create(
        NewTask("medium 1", initiative_id=initiative.id, priority=MEDIUM, order=1)
    )
    medium_early_too = repos.tasks.create(
        NewTask("medium 1b", initiative_id=initiative.id, priority=MEDIUM, order=1)
    )
    high = repos.tasks.create(NewTask("high", initiative_id=initiative.id, priority=HIGH, order=9))

    assert ids(repos.tasks.find_ready()) == ids(
        [high, medium_early, medium_early_too, medium_late, low]
    )


def test_find_ready_filters_by_initiative_and_phase(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative, phase: Phase
) -> None:
    in_phase = repos.tasks.create(NewTask("in phase", phase_id=phase.id))
    (loose,) = make(repos, initiative, "loose")
    (theirs,) = make(repos, other_initiative, "theirs")

    assert ids(repos.tasks.find_ready(initiative_id=initiative.id)) == ids([in_phase, loose])
    assert ids(repos.tasks.find_ready(phase_id=phase.id)) == [in_phase.id]
    assert ids(repos.tasks.find_ready(initiative_id=other_initiative.id)) == [theirs.id]


def test_find_ready_is_one_query(
    repos: Repositories, initiative: Initiative, statements: list[str]
) -> None:
    first, second = make(repos, initiative, "first", "second")
    repos.tasks.create_dependency(second.id, first.id)
    statements.clear()

    assert ids(repos.tasks.find_ready()) == [first.id]

    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "NOT (EXISTS" in selects[0]
