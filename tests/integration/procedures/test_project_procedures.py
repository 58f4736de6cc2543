"""``project.*`` over the wire: CRUD and the initiatives' project links."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, agent_api, next_millisecond

Row = dict[str, Any]


@pytest.fixture
def initiative(api: Api) -> Row:
    created: Row = api.mutation("initiative.create", {"name": "auth"})
    return created


def project(api: Api, name: str, **fields: Any) -> Row:
    created: Row = api.mutation(
        "project.create", {"name": name, "url": f"git@example.com:{name}.git", **fields}
    )
    return created


def ids(rows: list[Row]) -> list[str]:
    return [row["id"] for row in rows]


def test_create_and_get(api: Api) -> None:
    created = project(api, "web")

    assert set(created) == {"id", "name", "url", "defaultBranch", "createdAt", "updatedAt"}
    assert (created["name"], created["url"], created["defaultBranch"]) == (
        "web",
        "git@example.com:web.git",
        "main",
    )
    assert project(api, "api", defaultBranch="trunk")["defaultBranch"] == "trunk"
    assert api.query("project.get", {"id": created["id"]}) == created


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": "x"}, "url"), ({"url": "u"}, "name"), ({"name": "x", "url": ""}, "url")],
)
def test_create_refuses_missing_fields_naming_them(
    api: Api, payload: dict[str, str], field: str
) -> None:
    error = api.fails("mutation", "project.create", payload)

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")


def test_a_taken_name_or_url_is_a_conflict(api: Api) -> None:
    web = project(api, "web")

    by_name = api.fails("mutation", "project.create", {"name": "web", "url": "elsewhere"})
    by_url = api.fails("mutation", "project.create", {"name": "other", "url": web["url"]})

    assert (by_name.code, by_url.code) == ("CONFLICT", "CONFLICT")
    assert "name 'web'" in by_name.message
    assert web["id"] in by_url.message


def test_get_unknown_is_not_found(api: Api) -> None:
    error = api.fails("query", "project.get", {"id": "p0"})

    assert (error.code, error.message) == ("NOT_FOUND", "project 'p0' not found")


def test_list_pages(api: Api) -> None:
    made = []
    for name in ("b", "a", "c"):
        made.append(project(api, name))
        next_millisecond()

    first = api.query("project.list", {"limit": 2})
    rest = api.query("project.list", {"limit": 2, "cursor": first["nextCursor"]})

    assert ids(first["items"] + rest["items"]) == ids(made)
    assert rest["nextCursor"] is None


def test_update_and_its_refusals(api: Api) -> None:
    web, other = project(api, "web"), project(api, "other")

    updated = api.mutation(
        "project.update", {"id": web["id"], "defaultBranch": "develop", "url": "https://x/web"}
    )
    assert (updated["name"], updated["url"], updated["defaultBranch"]) == (
        "web",
        "https://x/web",
        "develop",
    )
    taken = api.fails("mutation", "project.update", {"id": other["id"], "name": "web"})
    assert taken.code == "CONFLICT"
    nulled = api.fails("mutation", "project.update", {"id": web["id"], "url": None})
    assert (nulled.code, nulled.message.split(":")[0]) == ("BAD_REQUEST", "url")
    missing = api.fails("mutation", "project.update", {"id": "p0", "name": "x"})
    assert (missing.code, missing.message) == ("NOT_FOUND", "project 'p0' not found")


def test_delete_counts_the_links_and_keeps_the_initiatives(api: Api, initiative: Row) -> None:
    web = project(api, "web")
    api.mutation(
        "project.addToInitiative", {"initiativeId": initiative["id"], "projectId": web["id"]}
    )

    result = api.mutation("project.delete", {"id": web["id"]})

    assert result == {"id": web["id"], "deleted": web, "removed": {"initiativeProjects": 1}}
    assert api.query("project.forInitiative", {"initiativeId": initiative["id"]}) == []
    assert api.query("initiative.get", {"id": initiative["id"]}) == initiative
    assert api.fails("mutation", "project.delete", {"id": web["id"]}).code == "NOT_FOUND"


def test_set_for_initiative_is_diff_based(api: Api, initiative: Row) -> None:
    web, cli, docs = project(api, "web"), project(api, "cli"), project(api, "docs")
    iid = initiative["id"]

    first = api.mutation(
        "project.setForInitiative", {"initiativeId": iid, "projectIds": [web["id"], cli["id"]]}
    )
    second = api.mutation(
        "project.setForInitiative", {"initiativeId": iid, "projectIds": [cli["id"], docs["id"]]}
    )

    assert first == {
        "added": [web["id"], cli["id"]],
        "removed": [],
        "projectIds": [web["id"], cli["id"]],
    }
    assert second == {
        "added": [docs["id"]],
        "removed": [web["id"]],
        "projectIds": [cli["id"], docs["id"]],
    }
    # by name
    assert ids(api.query("project.forInitiative", {"initiativeId": iid})) == ids([cli, docs])


def test_set_for_initiative_names_an_unknown_project_and_changes_nothing(
    api: Api, initiative: Row
) -> None:
    web = project(api, "web")
    iid = initiative["id"]

    error = api.fails(
        "mutation",
        "project.setForInitiative",
        {"initiativeId": iid, "projectIds": [web["id"], "p0"]},
    )
    missing = api.fails(
        "mutation", "project.setForInitiative", {"initiativeId": "i0", "projectIds": []}
    )

    assert (error.code, error.message) == ("NOT_FOUND", "project 'p0' not found")
    assert (missing.code, missing.message) == ("NOT_FOUND", "initiative 'i0' not found")
    assert api.query("project.forInitiative", {"initiativeId": iid}) == []
    no_list = api.fails("mutation", "project.setForInitiative", {"initiativeId": iid})
    assert (no_list.code, no_list.message.split(":")[0]) == ("BAD_REQUEST", "projectIds")


def test_add_and_remove_one_link(api: Api, initiative: Row) -> None:
    web, cli = project(api, "web"), project(api, "cli")
    iid = initiative["id"]

    after_add = api.mutation(
        "project.addToInitiative", {"initiativeId": iid, "projectId": web["id"]}
    )
    again = api.mutation("project.addToInitiative", {"initiativeId": iid, "projectId": web["id"]})
    api.mutation("project.addToInitiative", {"initiativeId": iid, "projectId": cli["id"]})
    after_remove = api.mutation(
        "project.removeFromInitiative", {"initiativeId": iid, "projectId": web["id"]}
    )

    assert ids(after_add) == ids(again) == [web["id"]]
    assert ids(after_remove) == [cli["id"]]
    not_linked = api.fails(
        "mutation", "project.removeFromInitiative", {"initiativeId": iid, "projectId": web["id"]}
    )
    assert not_linked.code == "NOT_FOUND"
    assert "is not linked to initiative" in not_linked.message


def test_for_an_unknown_initiative_is_not_found(api: Api) -> None:
    error = api.fails("query", "project.forInitiative", {"initiativeId": "i0"})

    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'i0' not found")


def test_agents_read_but_do_not_write(api: Api, initiative: Row) -> None:
    web = project(api, "web")
    iid = initiative["id"]
    api.mutation("project.addToInitiative", {"initiativeId": iid, "projectId": web["id"]})
    agent = agent_api(api)

    assert agent.query("project.get", {"id": web["id"]}) == web
    assert ids(agent.query("project.list")["items"]) == [web["id"]]
    assert ids(agent.query("project.forInitiative", {"initiativeId": iid})) == [web["id"]]
    for path, payload in [
        ("project.create", {"name": "x", "url": "y"}),
        ("project.update", {"id": web["id"], "name": "x"}),
        ("project.delete", {"id": web["id"]}),
        ("project.setForInitiative", {"initiativeId": iid, "projectIds": []}),
        ("project.addToInitiative", {"initiativeId": iid, "projectId": web["id"]}),
        ("project.removeFromInitiative", {"initiativeId": iid, "projectId": web["id"]}),
    ]:
        assert agent.fails("mutation", path, payload).code == "FORBIDDEN", path
    assert ids(api.query("project.forInitiative", {"initiativeId": iid})) == [web["id"]]


@pytest.mark.parametrize(
    ("fields", "named", "says"),
    [
        ({"url": "-h"}, "url", "starts with '-'"),
        ({"url": "--upload-pack=touch /tmp/pwned"}, "url", "starts with '-'"),
        ({"url": "ext::sh -c touch% /tmp/pwned"}, "url", "ext:: transport runs a command"),
        ({"defaultBranch": "--orphan"}, "defaultBranch", "starts with '-'"),
        ({"defaultBranch": "a..b"}, "defaultBranch", "'..'"),
        ({"defaultBranch": "main.lock"}, "defaultBranch", "'.lock'"),
    ],
)
def test_values_git_would_misread_are_refused_at_create_and_update(
    api: Api, fields: Row, named: str, says: str
) -> None:
    payload = {"name": "evil", "url": "https://example.com/evil.git", **fields}
    error = api.fails("mutation", "project.create", payload)
    assert error.code == "BAD_REQUEST"
    assert named in error.message and says in error.message, error.message
    assert api.query("project.list")["items"] == []

    created = project(api, "good")
    error = api.fails("mutation", "project.update", {"id": created["id"], **fields})
    assert error.code == "BAD_REQUEST"
    assert named in error.message and says in error.message, error.message
    assert api.query("project.get", {"id": created["id"]}) == created
