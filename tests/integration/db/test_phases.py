"""The phase repository against a real SQLite file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select
from tests.integration.db.clock import Clock

from crosswalk.db import Repositories
from crosswalk.db.schema import phase_dependencies, phases, task_dependencies, tasks
from crosswalk.domain.enums import PhaseStatus
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import (
    Initiative,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewPhase,
    NewTask,
    Phase,
)
from crosswalk.ids import ID_LENGTH

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("auth"))


@pytest.fixture
def other_initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("billing"))


def make_phases(repos: Repositories, initiative: Initiative, *names: str) -> list[Phase]:
    return [repos.phases.create(NewPhase(initiative.id, name)) for name in names]


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- CRUD -------------------------------------------------------------------------


def test_create_returns_the_written_row(
    repos: Repositories, initiative: Initiative, clock: Clock
) -> None:
    content = {"type": "doc", "content": [{"type": "paragraph"}]}

    phase = repos.phases.create(NewPhase(initiative.id, "build", content=content))

    assert len(phase.id) == ID_LENGTH
    assert (phase.initiative_id, phase.name, phase.content) == (initiative.id, "build", content)
    assert phase.status is PhaseStatus.PENDING
    assert phase.created_at == phase.updated_at == clock.last
    assert repos.phases.get(phase.id) == phase


def test_create_under_an_unknown_initiative_names_it(repos: Repositories, engine: Engine) -> None:
    with pytest.raises(NotFoundError, match=r"^initiative 'ghost' not found$") as raised:
        repos.phases.create(NewPhase("ghost", "build"))

    assert (raised.value.kind, raised.value.id) == ("initiative", "ghost")
    assert count(engine, phases) == 0


def test_unknown_ids_are_not_found(repos: Repositories) -> None:
    assert repos.phases.find_by_id("nope") is None
    for call in (
        lambda: repos.phases.get("nope"),
        lambda: repos.phases.update("nope", {"name": "x"}),
        lambda: repos.phases.update("nope", {}),
        lambda: repos.phases.delete("nope"),
    ):
        with pytest.raises(NotFoundError, match=r"^phase 'nope' not found$"):
            call()


def test_find_by_initiative_id_is_in_creation_order(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative
) -> None:
    names = ["zeta", "alpha", "mid"]
    for name in names:
        repos.phases.create(NewPhase(initiative.id, name))
    repos.phases.create(NewPhase(other_initiative.id, "elsewhere"))

    assert [p.name for p in repos.phases.find_by_initiative_id(initiative.id)] == names
    assert repos.phases.find_by_initiative_id("ghost") == []
    assert len(repos.phases.find_all()) == 4


def test_list_page_filters_and_pages(
    repos: Repositories, initiative: Initiative, other_initiative: Initiative
) -> None:
    ids = []
    for n in range(3):
        ids.append(repos.phases.create(NewPhase(initiative.id, f"p{n}")).id)
    repos.phases.create(NewPhase(other_initiative.id, "other", status=PhaseStatus.BLOCKED))

    first = repos.phases.list_page(initiative_id=initiative.id, limit=2)
    second = repos.phases.list_page(initiative_id=initiative.id, limit=2, cursor=first.next_cursor)
    blocked = repos.phases.list_page(status=PhaseStatus.BLOCKED)

    assert [p.id for p in first.items + second.items] == ids
    assert second.next_cursor is None
    assert [p.name for p in blocked.items] == ["other"]


def test_update_changes_fields_and_moves_updated_at(
    repos: Repositories, initiative: Initiative, clock: Clock
) -> None:
    (phase,) = make_phases(repos, initiative, "build")

    updated = repos.phases.update(
        phase.id, {"name": "ship", "status": PhaseStatus.IN_PROGRESS, "content": [1, 2]}
    )

    assert (updated.name, updated.status, updated.content) == (
        "ship",
        PhaseStatus.IN_PROGRESS,
        [1, 2],
    )
    assert updated.created_at == phase.created_at
    assert updated.updated_at == clock.last > phase.updated_at
    assert repos.phases.get(phase.id) == updated


def test_an_empty_update_returns_the_row_unchanged(
    repos: Repositories, initiative: Initiative
) -> None:
    (phase,) = make_phases(repos, initiative, "build")

    assert repos.phases.update(phase.id, {}) == phase
    assert repos.phases.get(phase.id) == phase


def test_update_refuses_an_unknown_status(repos: Repositories, initiative: Initiative) -> None:
    (phase,) = make_phases(repos, initiative, "build")
    bogus: Any = {"status": "done"}

    with pytest.raises(InvalidInputError, match="done"):
        repos.phases.update(phase.id, bogus)
    assert repos.phases.get(phase.id) == phase


def test_delete_cascades_and_counts_what_went_along(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    design, build, ship = make_phases(repos, initiative, "design", "build", "ship")
    repos.phases.create_dependency(build.id, design.id)
    repos.phases.create_dependency(ship.id, build.id)
    task = repos.tasks.create(NewTask("code", phase_id=build.id))
    subtask = repos.tasks.create(NewTask("part", parent_task_id=task.id))
    shipping = repos.tasks.create(NewTask("deploy", phase_id=ship.id))
    repos.tasks.create_dependency(shipping.id, subtask.id)
    coder = repos.agents.create(NewAgent("/wt1", task_id=subtask.id))
    shipper = repos.agents.create(NewAgent("/wt2", task_id=shipping.id))
    ready = NewConversation(shipper.id, coder.id, "ready?", phase_id=build.id)
    repos.conversations.answer(repos.conversations.create(ready).id, "yes")  # no wait cycle
    repos.conversations.create(NewConversation(coder.id, shipper.id, "ok?", task_id=task.id))
    repos.conversations.create(NewConversation(coder.id, shipper.id, "?", phase_id=ship.id))

    removal = repos.phases.delete(build.id)

    assert removal == {
        "tasks": 2,
        "phaseDependencies": 2,
        "taskDependencies": 1,
        "agentsDetached": 1,
        "conversationsDetached": 2,
    }
    assert [p.id for p in repos.phases.find_by_initiative_id(initiative.id)] == [design.id, ship.id]
    assert count(engine, phase_dependencies) == 0
    assert count(engine, task_dependencies) == 0
    assert [t.id for t in repos.tasks.find_all()] == [shipping.id]
    assert repos.agents.get(coder.id).task_id is None
    assert count(engine, tasks) == 1


# --- dependencies -----------------------------------------------------------------


def test_create_dependency_links_the_phases_both_ways(
    repos: Repositories, initiative: Initiative
) -> None:
    design, build, ship = make_phases(repos, initiative, "design", "build", "ship")

    dependency = repos.phases.create_dependency(ship.id, build.id)
    repos.phases.create_dependency(ship.id, design.id)
    repos.phases.create_dependency(build.id, design.id)

    assert (dependency.phase_id, dependency.depends_on_phase_id) == (ship.id, build.id)
    assert len(dependency.id) == ID_LENGTH
    assert [p.id for p in repos.phases.get_dependencies(ship.id)] == [design.id, build.id]
    assert repos.phases.get_dependencies(design.id) == []
    assert [p.id for p in repos.phases.get_dependents(design.id)] == [build.id, ship.id]
    assert repos.phases.get_dependents(build.id) == [ship]


def test_an_edge_is_stored_once(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    """The rules of the graph (one initiative, no cycle, retries) are PlanningService's
    (``test_service_rules.py``); the adapter only refuses storing an edge twice."""
    build, ship = make_phases(repos, initiative, "build", "ship")
    first = repos.phases.create_dependency(ship.id, build.id)

    assert repos.phases.find_dependency(ship.id, build.id) == first
    assert repos.phases.find_dependency(build.id, ship.id) is None
    assert repos.phases.prerequisite_ids(ship.id) == [build.id]
    with pytest.raises(ConflictError):
        repos.phases.create_dependency(ship.id, build.id)
    assert count(engine, phase_dependencies) == 1


def test_dependencies_on_unknown_phases_name_the_missing_one(
    repos: Repositories, initiative: Initiative
) -> None:
    (phase,) = make_phases(repos, initiative, "build")

    with pytest.raises(NotFoundError, match=r"^phase 'ghost' not found$"):
        repos.phases.create_dependency(phase.id, "ghost")
    with pytest.raises(NotFoundError, match=r"^phase 'ghost' not found$"):
        repos.phases.create_dependency("ghost", phase.id)
    with pytest.raises(NotFoundError, match=r"^phase 'ghost' not found$"):
        repos.phases.remove_dependency(phase.id, "ghost")


def test_remove_dependency_removes_only_that_edge(
    repos: Repositories, initiative: Initiative
) -> None:
    design, build, ship = make_phases(repos, initiative, "design", "build", "ship")
    repos.phases.create_dependency(ship.id, build.id)
    repos.phases.create_dependency(ship.id, design.id)

    repos.phases.remove_dependency(ship.id, build.id)

    assert repos.phases.get_dependencies(ship.id) == [design]
    with pytest.raises(NotFoundError, match=f"phase '{ship.id}' does not depend on phase"):
        repos.phases.remove_dependency(ship.id, build.id)
