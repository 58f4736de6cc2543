"""The project repository against a real SQLite file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from crosswalk.db import Repositories
from crosswalk.db.schema import initiative_projects
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import (
    Initiative,
    InitiativeProjectsChange,
    NewInitiative,
    NewProject,
    Project,
)
from crosswalk.ids import ID_LENGTH

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("auth"))


@pytest.fixture
def trio(repos: Repositories) -> list[Project]:
    return [
        repos.projects.create(NewProject(name, f"git@example.com:{name}.git"))
        for name in ("api", "web", "cli")
    ]


def links(engine: Engine, initiative_id: str) -> dict[str, tuple[str, datetime]]:
    """project_id -> (link id, created_at) of the initiative's link rows."""
    c = initiative_projects.c
    query = select(c.project_id, c.id, c.created_at).where(c.initiative_id == initiative_id)
    with engine.connect() as conn:
        return {row.project_id: (row.id, row.created_at) for row in conn.execute(query)}


# --- CRUD -------------------------------------------------------------------------


def test_create_returns_the_written_row(repos: Repositories) -> None:
    project = repos.projects.create(NewProject("api", "git@example.com:api.git"))

    assert len(project.id) == ID_LENGTH
    assert (project.name, project.url, project.default_branch) == (
        "api",
        "git@example.com:api.git",
        "main",
    )
    assert project.created_at == project.updated_at
    assert repos.projects.get(project.id) == project
    assert repos.projects.find_by_name("api") == project
    assert repos.projects.find_by_name("nope") is None


@pytest.mark.parametrize(
    ("second", "field"),
    [(NewProject("api", "git@x:other.git"), "name"), (NewProject("other", "git@x:api.git"), "url")],
)
def test_a_taken_name_or_url_is_a_conflict_naming_which(
    repos: Repositories, second: NewProject, field: str
) -> None:
    first = repos.projects.create(NewProject("api", "git@x:api.git"))

    with pytest.raises(ConflictError, match=f"^project {field} '.*' is already used by project"):
        repos.projects.create(second)
    assert repos.projects.find_all() == [first]


def test_update_refuses_a_taken_name_or_url_but_keeps_its_own(
    repos: Repositories, trio: list[Project]
) -> None:
    api, web, _ = trio

    with pytest.raises(ConflictError, match="project name 'web'"):
        repos.projects.update(api.id, {"name": "web"})
    with pytest.raises(ConflictError, match="project url"):
        repos.projects.update(api.id, {"url": web.url})
    renamed = repos.projects.update(api.id, {"name": "api", "default_branch": "trunk"})

    assert renamed.default_branch == "trunk"
    assert renamed.updated_at > api.updated_at
    assert renamed.created_at == api.created_at


def test_an_empty_update_returns_the_row_unchanged(
    repos: Repositories, trio: list[Project]
) -> None:
    assert repos.projects.update(trio[0].id, {}) == trio[0]


def test_unknown_ids_are_not_found(repos: Repositories) -> None:
    assert repos.projects.find_by_id("nope") is None
    for call in (
        lambda: repos.projects.get("nope"),
        lambda: repos.projects.update("nope", {"name": "x"}),
        lambda: repos.projects.update("nope", {}),
        lambda: repos.projects.delete("nope"),
    ):
        with pytest.raises(NotFoundError, match=r"^project 'nope' not found$"):
            call()


def test_update_refuses_unknown_fields(repos: Repositories, trio: list[Project]) -> None:
    bogus: Any = {"id": "x"}

    with pytest.raises(InvalidInputError, match="no field 'id'"):
        repos.projects.update(trio[0].id, bogus)


def test_find_all_is_by_name_and_list_page_by_creation(
    repos: Repositories, trio: list[Project]
) -> None:
    first = repos.projects.list_page(limit=2)
    rest = repos.projects.list_page(limit=2, cursor=first.next_cursor)

    assert [p.name for p in repos.projects.find_all()] == ["api", "cli", "web"]
    assert first.items + rest.items == trio
    assert rest.next_cursor is None


def test_delete_removes_the_links_but_not_the_initiatives(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    other = repos.initiatives.create(NewInitiative("other"))
    repos.projects.set_initiative_projects(initiative.id, [trio[0].id, trio[1].id])
    repos.projects.set_initiative_projects(other.id, [trio[0].id])

    assert repos.projects.delete(trio[0].id) == {"initiativeProjects": 2}

    assert set(links(engine, initiative.id)) == {trio[1].id}
    assert links(engine, other.id) == {}
    assert repos.initiatives.get(other.id) == other


# --- links to initiatives ---------------------------------------------------------


def test_set_initiative_projects_writes_only_the_difference(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    api, web, cli = trio

    first = repos.projects.set_initiative_projects(initiative.id, [api.id, web.id])
    before = links(engine, initiative.id)
    second = repos.projects.set_initiative_projects(initiative.id, [cli.id, web.id])
    after = links(engine, initiative.id)

    assert first == InitiativeProjectsChange(
        added=(api.id, web.id), removed=(), project_ids=(api.id, web.id)
    )
    assert second == InitiativeProjectsChange(
        added=(cli.id,), removed=(api.id,), project_ids=(cli.id, web.id)
    )
    assert set(after) == {web.id, cli.id}
    assert after[web.id] == before[web.id]  # untouched: same id and created_at
    assert after[cli.id][1] > before[web.id][1]
    assert [p.name for p in repos.projects.find_projects_by_initiative_id(initiative.id)] == [
        "cli",
        "web",
    ]


def test_setting_the_same_projects_again_changes_nothing(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    wanted = [trio[0].id, trio[1].id]
    repos.projects.set_initiative_projects(initiative.id, wanted)
    before = links(engine, initiative.id)

    change = repos.projects.set_initiative_projects(initiative.id, [*wanted, trio[0].id])

    assert change == InitiativeProjectsChange(added=(), removed=(), project_ids=tuple(wanted))
    assert links(engine, initiative.id) == before


def test_an_empty_set_unlinks_everything(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    repos.projects.set_initiative_projects(initiative.id, [p.id for p in trio])

    change = repos.projects.set_initiative_projects(initiative.id, [])

    assert sorted(change.removed) == sorted(p.id for p in trio)
    assert links(engine, initiative.id) == {}


def test_an_unknown_project_is_named_and_nothing_is_written(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    repos.projects.set_initiative_projects(initiative.id, [trio[0].id])
    before = links(engine, initiative.id)

    with pytest.raises(NotFoundError, match=r"^project 'ghost' not found$") as raised:
        repos.projects.set_initiative_projects(initiative.id, [trio[1].id, "ghost"])

    assert raised.value.id == "ghost"
    assert links(engine, initiative.id) == before


def test_an_unknown_initiative_is_named(repos: Repositories, trio: list[Project]) -> None:
    with pytest.raises(NotFoundError, match=r"^initiative 'ghost' not found$"):
        repos.projects.set_initiative_projects("ghost", [trio[0].id])
    with pytest.raises(NotFoundError, match=r"^initiative 'ghost' not found$"):
        repos.projects.add_project_to_initiative("ghost", trio[0].id)


def test_add_and_remove_a_single_link(
    repos: Repositories, trio: list[Project], initiative: Initiative, engine: Engine
) -> None:
    api, web, _ = trio

    repos.projects.add_project_to_initiative(initiative.id, api.id)
    repos.projects.add_project_to_initiative(initiative.id, web.id)
    before = links(engine, initiative.id)
    repos.projects.add_project_to_initiative(initiative.id, api.id)  # already linked: no-op

    assert links(engine, initiative.id) == before
    repos.projects.remove_project_from_initiative(initiative.id, api.id)
    assert repos.projects.find_projects_by_initiative_id(initiative.id) == [web]
    with pytest.raises(NotFoundError, match=f"project '{api.id}' is not linked"):
        repos.projects.remove_project_from_initiative(initiative.id, api.id)
    with pytest.raises(NotFoundError, match=r"^project 'ghost' not found$"):
        repos.projects.add_project_to_initiative(initiative.id, "ghost")
