"""The initiative repository against a real SQLite file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select
from tests.integration.db.clock import Clock

from crosswalk.db import Repositories
from crosswalk.db.schema import (
    agents,
    conversations,
    initiative_projects,
    pages,
    phase_dependencies,
    phases,
    proposals,
    task_dependencies,
    tasks,
)
from crosswalk.domain.enums import InitiativeStatus, ProposalTargetType
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import (
    InitiativeUpdate,
    NewAgent,
    NewConversation,
    NewInitiative,
    NewPage,
    NewPhase,
    NewProject,
    NewProposal,
    NewTask,
)
from crosswalk.ids import ID_LENGTH

ACTIVE, COMPLETED, ARCHIVED = InitiativeStatus


pytestmark = pytest.mark.usefixtures("clock")


def count(engine: Engine, table: Table, *where: Any) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


# --- create -----------------------------------------------------------------------


def test_create_returns_the_written_row_with_defaults(repos: Repositories, clock: Clock) -> None:
    created = repos.initiatives.create(NewInitiative("User auth"))

    assert len(created.id) == ID_LENGTH
    assert created.name == "User auth"
    assert created.status is ACTIVE
    assert created.merge_requires_approval is True
    assert created.created_at == created.updated_at == clock.last
    assert repos.initiatives.get(created.id) == created


def test_without_a_branch_the_name_becomes_a_unique_cw_branch(repos: Repositories) -> None:
    branches = [repos.initiatives.create(NewInitiative("User Auth")).branch for _ in range(3)]

    assert branches == ["cw/user-auth", "cw/user-auth-2", "cw/user-auth-3"]


def test_generated_branches_avoid_explicit_ones_and_fill_the_first_gap(
    repos: Repositories,
) -> None:
    repos.initiatives.create(NewInitiative("manual", branch="cw/user-auth"))
    second = repos.initiatives.create(NewInitiative("user auth"))
    third = repos.initiatives.create(NewInitiative("USER  AUTH!"))
    repos.initiatives.delete(second.id)

    assert (second.branch, third.branch) == ("cw/user-auth-2", "cw/user-auth-3")
    assert repos.initiatives.create(NewInitiative("User-Auth")).branch == "cw/user-auth-2"


def test_a_branch_sharing_only_a_prefix_does_not_count_as_taken(repos: Repositories) -> None:
    repos.initiatives.create(NewInitiative("User Auth v2"))

    assert repos.initiatives.create(NewInitiative("User Auth")).branch == "cw/user-auth"


def test_a_name_without_ascii_letters_still_gets_a_branch(repos: Repositories) -> None:
    assert repos.initiatives.create(NewInitiative("認証")).branch == "cw/initiative"


def test_a_given_branch_is_kept(repos: Repositories) -> None:
    created = repos.initiatives.create(NewInitiative("x", branch="feature/login"))

    assert created.branch == "feature/login"


def test_a_given_branch_that_is_taken_is_a_conflict_naming_it(
    repos: Repositories, engine: Engine
) -> None:
    first = repos.initiatives.create(NewInitiative("a", branch="cw/shared"))

    with pytest.raises(ConflictError, match=f"branch 'cw/shared' .*'{first.id}'"):
        repos.initiatives.create(NewInitiative("b", branch="cw/shared"))
    assert [i.id for i in repos.initiatives.find_all()] == [first.id]


def test_a_blank_branch_is_invalid(repos: Repositories) -> None:
    with pytest.raises(InvalidInputError, match="branch"):
        repos.initiatives.create(NewInitiative("a", branch="  "))


# --- read -------------------------------------------------------------------------


def test_unknown_ids_are_not_found(repos: Repositories) -> None:
    assert repos.initiatives.find_by_id("nope") is None
    with pytest.raises(NotFoundError, match=r"^initiative 'nope' not found$") as raised:
        repos.initiatives.get("nope")
    assert (raised.value.kind, raised.value.id) == ("initiative", "nope")
    with pytest.raises(NotFoundError, match="initiative 'nope'"):
        repos.initiatives.update("nope", {"name": "x"})
    with pytest.raises(NotFoundError, match="initiative 'nope'"):
        repos.initiatives.update("nope", {})
    with pytest.raises(NotFoundError, match="initiative 'nope'"):
        repos.initiatives.delete("nope")


def test_find_all_and_find_by_status_in_creation_order(repos: Repositories) -> None:
    made = []
    for name, status in [("a", ACTIVE), ("b", ARCHIVED), ("c", ACTIVE), ("d", COMPLETED)]:
        made.append(repos.initiatives.create(NewInitiative(name, status=status)))

    assert [i.name for i in repos.initiatives.find_all()] == ["a", "b", "c", "d"]
    assert [i.name for i in repos.initiatives.find_by_status(ACTIVE)] == ["a", "c"]
    assert repos.initiatives.find_by_status(COMPLETED) == [made[3]]


def test_list_page_walks_every_initiative_once(repos: Repositories) -> None:
    ids = []
    for n in range(5):
        ids.append(repos.initiatives.create(NewInitiative(f"i{n}")).id)

    seen, cursor, pages_read = [], None, 0
    while True:
        page = repos.initiatives.list_page(limit=2, cursor=cursor)
        seen += [i.id for i in page.items]
        pages_read += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == ids
    assert pages_read == 3


def test_list_page_filters_by_status(repos: Repositories) -> None:
    repos.initiatives.create(NewInitiative("a"))
    archived = repos.initiatives.create(NewInitiative("b", status=ARCHIVED))

    page = repos.initiatives.list_page(status=ARCHIVED)

    assert page.items == [archived]
    assert page.next_cursor is None


# --- update -----------------------------------------------------------------------


def test_update_changes_fields_and_moves_updated_at(repos: Repositories, clock: Clock) -> None:
    created = repos.initiatives.create(NewInitiative("a"))

    updated = repos.initiatives.update(
        created.id, {"name": "b", "status": COMPLETED, "merge_requires_approval": False}
    )

    assert (updated.name, updated.status, updated.merge_requires_approval) == (
        "b",
        COMPLETED,
        False,
    )
    assert updated.created_at == created.created_at
    assert updated.updated_at == clock.last > created.updated_at
    assert repos.initiatives.get(created.id) == updated


def test_an_empty_update_returns_the_row_unchanged(repos: Repositories) -> None:
    created = repos.initiatives.create(NewInitiative("a"))

    assert repos.initiatives.update(created.id, {}) == created
    assert repos.initiatives.get(created.id) == created


def test_update_refuses_a_branch_another_initiative_uses(repos: Repositories) -> None:
    first = repos.initiatives.create(NewInitiative("first"))
    second = repos.initiatives.create(NewInitiative("second"))

    with pytest.raises(ConflictError, match="branch 'cw/first'"):
        repos.initiatives.update(second.id, {"branch": "cw/first"})
    assert repos.initiatives.update(first.id, {"branch": "cw/first"}).branch == "cw/first"
    assert repos.initiatives.update(first.id, {"branch": None}).branch is None


def test_update_refuses_unknown_fields_and_values(repos: Repositories) -> None:
    created = repos.initiatives.create(NewInitiative("a"))
    bogus_field: Any = {"id": "other"}
    bogus_status: Any = {"status": "paused"}

    with pytest.raises(InvalidInputError, match="no field 'id'"):
        repos.initiatives.update(created.id, bogus_field)
    with pytest.raises(InvalidInputError, match="paused"):
        repos.initiatives.update(created.id, InitiativeUpdate(**bogus_status))
    assert repos.initiatives.get(created.id) == created


# --- delete -----------------------------------------------------------------------


def test_delete_cascades_and_counts_what_went_along(repos: Repositories, engine: Engine) -> None:
    doomed = repos.initiatives.create(NewInitiative("doomed"))
    kept = repos.initiatives.create(NewInitiative("kept"))
    build = repos.phases.create(NewPhase(doomed.id, "build"))
    ship = repos.phases.create(NewPhase(doomed.id, "ship"))
    repos.phases.create_dependency(ship.id, build.id)
    task = repos.tasks.create(NewTask("code", phase_id=build.id))
    subtask = repos.tasks.create(NewTask("part", parent_task_id=task.id))
    loose = repos.tasks.create(NewTask("loose", initiative_id=doomed.id))
    repos.tasks.create_dependency(loose.id, task.id)
    kept_task = repos.tasks.create(NewTask("elsewhere", initiative_id=kept.id))
    root = repos.pages.get_or_create_root_page(doomed.id)
    repos.pages.create(NewPage(doomed.id, "child", parent_page_id=root.id))
    repos.pages.get_or_create_root_page(kept.id)
    project = repos.projects.create(NewProject("repo", "git@x:repo.git"))
    repos.projects.set_initiative_projects(doomed.id, [project.id])
    on_initiative = repos.agents.create(NewAgent("/wt1", initiative_id=doomed.id))
    on_subtask = repos.agents.create(NewAgent("/wt2", task_id=subtask.id))
    bystander = repos.agents.create(NewAgent("/wt3", task_id=kept_task.id))
    repos.proposals.create(
        NewProposal(on_initiative.id, doomed.id, ProposalTargetType.PHASE, "idea")
    )
    about_phase = repos.conversations.create(
        NewConversation(on_initiative.id, bystander.id, "why?", phase_id=ship.id)
    )

    removal = repos.initiatives.delete(doomed.id)

    assert removal == {
        "phases": 2,
        "phaseDependencies": 1,
        "tasks": 3,
        "taskDependencies": 1,
        "pages": 2,
        "proposals": 1,
        "initiativeProjects": 1,
        "agentsDetached": 2,
        "conversationsDetached": 1,
    }
    assert repos.initiatives.find_by_id(doomed.id) is None
    for table in (phases, phase_dependencies, task_dependencies, proposals, initiative_projects):
        assert count(engine, table) == 0, table.name
    assert [t.id for t in repos.tasks.find_all()] == [kept_task.id]
    assert count(engine, pages) == 1
    assert repos.projects.get(project.id) == project
    assert repos.agents.get(on_initiative.id).initiative_id is None
    assert repos.agents.get(on_subtask.id).task_id is None
    assert repos.agents.get(bystander.id).task_id == kept_task.id
    assert repos.conversations.get(about_phase.id).phase_id is None
    assert count(engine, agents) == 3
    assert count(engine, conversations) == 1
    assert repos.initiatives.get(kept.id) == kept


def test_delete_of_a_bare_initiative_reports_zeros(repos: Repositories, engine: Engine) -> None:
    bare = repos.initiatives.create(NewInitiative("bare"))

    removal = repos.initiatives.delete(bare.id)

    assert set(removal) == {
        "phases",
        "phaseDependencies",
        "tasks",
        "taskDependencies",
        "pages",
        "proposals",
        "initiativeProjects",
        "agentsDetached",
        "conversationsDetached",
    }
    assert set(removal.values()) == {0}
    assert count(engine, tasks) == 0
