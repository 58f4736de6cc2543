"""The ``ProjectRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import NewInitiative, NewProject


def test_names_and_urls_are_unique(ports: Ports) -> None:
    projects = ports.projects
    api = projects.create(NewProject("api", "https://example.com/api.git"))
    web = projects.create(NewProject("web", "https://example.com/web.git", default_branch="dev"))

    assert (api.default_branch, web.default_branch) == ("main", "dev")
    assert projects.find_all() == [api, web]
    assert projects.find_by_name("web") == web
    with pytest.raises(ConflictError, match="name 'api'"):
        projects.create(NewProject("api", "https://example.com/other.git"))
    with pytest.raises(ConflictError, match="url"):
        projects.update(web.id, {"url": api.url})
    renamed = projects.update(web.id, {"name": "site"})
    assert projects.get(web.id) == renamed
    with pytest.raises(NotFoundError, match="project 'nope' not found"):
        projects.get("nope")


def test_linking_projects_to_an_initiative(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("auth"))
    projects = ports.projects
    a, b, c = (projects.create(NewProject(n, f"https://example.com/{n}.git")) for n in "abc")

    first = projects.set_initiative_projects(initiative.id, [b.id, a.id, b.id])
    assert (first.added, first.removed, first.project_ids) == ((b.id, a.id), (), (b.id, a.id))
    second = projects.set_initiative_projects(initiative.id, [a.id, c.id])
    assert (second.added, second.removed) == ((c.id,), (b.id,))
    with pytest.raises(NotFoundError, match="project 'ghost' not found"):
        projects.set_initiative_projects(initiative.id, [a.id, "ghost"])
    assert projects.find_projects_by_initiative_id(initiative.id) == [a, c]

    projects.add_project_to_initiative(initiative.id, b.id)
    projects.add_project_to_initiative(initiative.id, b.id)  # a set: no second link
    projects.remove_project_from_initiative(initiative.id, a.id)
    assert projects.find_projects_by_initiative_id(initiative.id) == [b, c]
    with pytest.raises(NotFoundError, match="not linked"):
        projects.remove_project_from_initiative(initiative.id, a.id)
    assert projects.delete(b.id) == {"initiativeProjects": 1}
    assert projects.find_projects_by_initiative_id(initiative.id) == [c]


def test_the_last_push_is_kept_per_link_and_goes_with_it(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("Push me"))
    api = ports.projects.create(NewProject("api", "https://example.com/api.git"))
    web = ports.projects.create(NewProject("web", "https://example.com/web.git"))
    ports.projects.set_initiative_projects(initiative.id, [web.id, api.id])
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

    never = ports.projects.find_pushes(initiative.id)
    assert [(p.project_name, p.url, p.pushed_commit, p.pushed_at) for p in never] == [
        ("api", "https://example.com/api.git", None, None),
        ("web", "https://example.com/web.git", None, None),
    ]
    ports.projects.record_push(initiative.id, api.id, {"pushed_commit": "c1", "pushed_at": at})
    ports.projects.record_push(initiative.id, api.id, {"push_error": "diverged"})
    [pushed, _] = ports.projects.find_pushes(initiative.id)
    assert (pushed.project_id, pushed.pushed_commit, pushed.pushed_at, pushed.push_error) == (
        api.id,
        "c1",
        at,
        "diverged",
    )
    with pytest.raises(NotFoundError, match="not linked"):
        ports.projects.record_push(initiative.id, "nope", {"push_error": "x"})

    ports.projects.remove_project_from_initiative(initiative.id, api.id)
    ports.projects.add_project_to_initiative(initiative.id, api.id)  # a new link: no push yet
    assert ports.projects.find_pushes(initiative.id)[0].pushed_commit is None
