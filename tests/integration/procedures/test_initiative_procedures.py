"""``initiative.*`` over the wire, against the real app and a real SQLite file."""

from __future__ import annotations

import re

import pytest
from tests.integration.procedures.planning_api import Api, agent_api, next_millisecond

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_create_returns_the_initiative_in_api_shape(api: Api) -> None:
    created = api.mutation("initiative.create", {"name": "User Auth"})

    assert set(created) == {
        "id",
        "name",
        "status",
        "mergeRequiresApproval",
        "branch",
        "dispatchStatus",
        "dispatchMaxAgents",
        "dispatchProvider",
        "autoPush",
        "createdAt",
        "updatedAt",
    }
    assert (created["dispatchStatus"], created["dispatchMaxAgents"]) == ("off", None)
    assert created["autoPush"] is False
    assert (created["name"], created["status"], created["mergeRequiresApproval"]) == (
        "User Auth",
        "active",
        True,
    )
    assert created["branch"] == "cw/user-auth"
    assert ISO_MS.match(created["createdAt"])
    assert api.query("initiative.get", {"id": created["id"]}) == created


def test_create_takes_branch_and_approval(api: Api) -> None:
    created = api.mutation(
        "initiative.create",
        {"name": "x", "branch": "feature/x", "mergeRequiresApproval": False},
    )

    assert (created["branch"], created["mergeRequiresApproval"]) == ("feature/x", False)
    taken = api.fails("mutation", "initiative.create", {"name": "y", "branch": "feature/x"})
    assert taken.code == "CONFLICT"
    assert "feature/x" in taken.message


def test_auto_push_is_set_on_create_and_update(api: Api) -> None:
    created = api.mutation("initiative.create", {"name": "pushy", "autoPush": True})
    assert created["autoPush"] is True
    updated = api.mutation("initiative.update", {"id": created["id"], "autoPush": False})
    assert updated["autoPush"] is False
    bad = api.fails("mutation", "initiative.update", {"id": created["id"], "autoPush": "maybe"})
    assert bad.code == "BAD_REQUEST"


def test_get_unknown_is_not_found_naming_it(api: Api) -> None:
    error = api.fails("query", "initiative.get", {"id": "nope"})

    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'nope' not found")


def test_list_filters_by_status_and_pages_with_a_cursor(api: Api) -> None:
    made = []
    for n in range(3):
        made.append(api.mutation("initiative.create", {"name": f"i{n}"}))
        next_millisecond()
    api.mutation("initiative.update", {"id": made[1]["id"], "status": "archived"})

    first = api.query("initiative.list", {"limit": 2})
    assert [i["id"] for i in first["items"]] == [made[0]["id"], made[1]["id"]]
    assert first["nextCursor"]
    rest = api.query("initiative.list", {"limit": 2, "cursor": first["nextCursor"]})
    assert ([i["id"] for i in rest["items"]], rest["nextCursor"]) == ([made[2]["id"]], None)

    archived = api.query("initiative.list", {"status": "archived"})
    assert [i["id"] for i in archived["items"]] == [made[1]["id"]]
    assert api.query("initiative.list")["items"][0]["name"] == "i0"


def test_update_changes_only_the_fields_sent(api: Api) -> None:
    created = api.mutation("initiative.create", {"name": "a"})

    updated = api.mutation(
        "initiative.update",
        {"id": created["id"], "name": "b", "status": "completed", "mergeRequiresApproval": False},
    )

    assert (updated["name"], updated["status"], updated["mergeRequiresApproval"]) == (
        "b",
        "completed",
        False,
    )
    assert updated["branch"] == created["branch"]  # left out: kept, not re-derived
    assert updated["updatedAt"] >= created["updatedAt"]
    cleared = api.mutation("initiative.update", {"id": created["id"], "branch": None})
    assert cleared["branch"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"status": "paused"}, "status"),
        ({"mergeRequiresApproval": "sometimes"}, "mergeRequiresApproval"),
        ({"colour": "red"}, "colour"),
        ({"name": ""}, "name"),
    ],
)
def test_update_refuses_bad_input_naming_the_field(
    api: Api, payload: dict[str, object], field: str
) -> None:
    created = api.mutation("initiative.create", {"name": "a"})

    error = api.fails("mutation", "initiative.update", {"id": created["id"], **payload})

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")
    assert api.query("initiative.get", {"id": created["id"]}) == created


def test_update_unknown_is_not_found(api: Api) -> None:
    error = api.fails("mutation", "initiative.update", {"id": "gone", "name": "x"})

    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'gone' not found")


def test_delete_reports_everything_that_went_along(api: Api) -> None:
    initiative = api.mutation("initiative.create", {"name": "doomed"})
    iid = initiative["id"]
    build = api.mutation("phase.create", {"initiativeId": iid, "name": "build"})
    ship = api.mutation("phase.create", {"initiativeId": iid, "name": "ship"})
    api.mutation("phase.addDependency", {"phaseId": ship["id"], "dependsOnPhaseId": build["id"]})
    first = api.mutation("task.create", {"name": "a", "phaseId": build["id"]})
    second = api.mutation("task.create", {"name": "b", "phaseId": ship["id"]})
    api.mutation("task.create", {"name": "a.1", "parentTaskId": first["id"]})
    api.mutation("task.addDependency", {"taskId": second["id"], "dependsOnTaskId": first["id"]})
    root = api.mutation("page.root", {"initiativeId": iid})
    api.mutation("page.create", {"initiativeId": iid, "title": "notes", "parentPageId": root["id"]})
    project = api.mutation("project.create", {"name": "web", "url": "git@example.com:web.git"})
    api.mutation("project.addToInitiative", {"initiativeId": iid, "projectId": project["id"]})
    api.mutation("agent.create", {"name": "worker", "taskId": first["id"]})

    result = api.mutation("initiative.delete", {"id": iid})

    assert result["id"] == iid
    assert result["deleted"] == initiative
    assert result["removed"] == {
        "phases": 2,
        "phaseDependencies": 1,
        "tasks": 3,
        "taskDependencies": 1,
        "pages": 2,
        "proposals": 0,
        "initiativeProjects": 1,
        "agentsDetached": 1,
        "conversationsDetached": 0,
    }
    assert api.fails("query", "initiative.get", {"id": iid}).code == "NOT_FOUND"
    assert api.fails("query", "task.get", {"id": first["id"]}).code == "NOT_FOUND"
    assert api.query("project.get", {"id": project["id"]})["name"] == "web"


def test_delete_unknown_is_not_found(api: Api) -> None:
    error = api.fails("mutation", "initiative.delete", {"id": "gone"})

    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'gone' not found")


def test_agents_read_but_do_not_write(api: Api) -> None:
    created = api.mutation("initiative.create", {"name": "a"})
    agent = agent_api(api, name="reader")

    assert agent.query("initiative.get", {"id": created["id"]}) == created
    assert [i["id"] for i in agent.query("initiative.list")["items"]] == [created["id"]]
    for path, payload in [
        ("initiative.create", {"name": "mine"}),
        ("initiative.update", {"id": created["id"], "name": "mine"}),
        ("initiative.delete", {"id": created["id"]}),
    ]:
        error = agent.fails("mutation", path, payload)
        assert error.code == "FORBIDDEN", path
        assert "only the administrator" in error.message
    assert api.query("initiative.get", {"id": created["id"]}) == created


def test_no_token_is_unauthorized(api: Api) -> None:
    assert api.as_token("wrong").fails("query", "initiative.list").code == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("branch", "says"),
    [("--orphan", "starts with '-'"), ("cw/a..b", "'..'"), ("x y", "' '"), ("HEAD", "HEAD")],
)
def test_a_branch_git_would_refuse_or_misread_is_refused_at_create_and_update(
    api: Api, branch: str, says: str
) -> None:
    error = api.fails("mutation", "initiative.create", {"name": "x", "branch": branch})
    assert error.code == "BAD_REQUEST"
    assert error.message.startswith("branch: ") and says in error.message, error.message
    assert api.query("initiative.list")["items"] == []

    created = api.mutation("initiative.create", {"name": "a"})
    error = api.fails("mutation", "initiative.update", {"id": created["id"], "branch": branch})
    assert error.code == "BAD_REQUEST"
    assert error.message.startswith("branch: ") and says in error.message, error.message
    assert api.query("initiative.get", {"id": created["id"]}) == created
