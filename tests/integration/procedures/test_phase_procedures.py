"""``phase.*`` over the wire: CRUD, dependencies (cycles refused), cascades."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, agent_api

DOC = {
    "type": "doc",
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}],
}


@pytest.fixture
def initiative(api: Api) -> dict[str, Any]:
    created: dict[str, Any] = api.mutation("initiative.create", {"name": "auth"})
    return created


def phase(api: Api, initiative: dict[str, Any], name: str, **fields: Any) -> dict[str, Any]:
    created: dict[str, Any] = api.mutation(
        "phase.create", {"initiativeId": initiative["id"], "name": name, **fields}
    )
    return created


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def test_create_and_get(api: Api, initiative: dict[str, Any]) -> None:
    created = phase(api, initiative, "design", content=DOC)

    assert set(created) == {
        "id",
        "initiativeId",
        "name",
        "content",
        "status",
        "createdAt",
        "updatedAt",
    }
    assert (created["initiativeId"], created["name"], created["status"]) == (
        initiative["id"],
        "design",
        "pending",
    )
    assert created["content"] == DOC  # JSON in, JSON out: not a string
    assert api.query("phase.get", {"id": created["id"]}) == created


def test_create_in_an_unknown_initiative_names_it(api: Api) -> None:
    error = api.fails("mutation", "phase.create", {"initiativeId": "nope", "name": "x"})

    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'nope' not found")


def test_create_refuses_a_missing_name_naming_it(api: Api, initiative: dict[str, Any]) -> None:
    error = api.fails("mutation", "phase.create", {"initiativeId": initiative["id"]})

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith("name: ")


def test_get_unknown_is_not_found(api: Api) -> None:
    error = api.fails("query", "phase.get", {"id": "nope"})

    assert (error.code, error.message) == ("NOT_FOUND", "phase 'nope' not found")


def test_list_filters_by_initiative_and_status(api: Api, initiative: dict[str, Any]) -> None:
    other = api.mutation("initiative.create", {"name": "billing"})
    a, b = phase(api, initiative, "a"), phase(api, initiative, "b")
    theirs = phase(api, other, "c")
    api.mutation("phase.update", {"id": b["id"], "status": "in_progress"})

    assert ids(api.query("phase.list")["items"]) == ids([a, b, theirs])
    mine = api.query("phase.list", {"initiativeId": initiative["id"]})
    assert (ids(mine["items"]), mine["nextCursor"]) == (ids([a, b]), None)
    running = api.query("phase.list", {"status": "in_progress"})
    assert ids(running["items"]) == [b["id"]]
    first = api.query("phase.list", {"limit": 1})
    assert ids(first["items"]) == [a["id"]]
    assert ids(api.query("phase.list", {"cursor": first["nextCursor"]})["items"]) == ids(
        [b, theirs]
    )


def test_update_changes_fields_and_clears_content(api: Api, initiative: dict[str, Any]) -> None:
    created = phase(api, initiative, "a", content=DOC)

    renamed = api.mutation("phase.update", {"id": created["id"], "name": "b", "status": "approved"})
    assert (renamed["name"], renamed["status"], renamed["content"]) == ("b", "approved", DOC)
    cleared = api.mutation("phase.update", {"id": created["id"], "content": None})
    assert (cleared["name"], cleared["content"]) == ("b", None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "done"}, "status"),
        ({"name": None}, "name"),
        ({"initiativeId": "x"}, "initiativeId"),
    ],
)
def test_update_refuses_bad_fields_naming_them(
    api: Api, initiative: dict[str, Any], payload: dict[str, Any], field: str
) -> None:
    created = phase(api, initiative, "a")

    error = api.fails("mutation", "phase.update", {"id": created["id"], **payload})

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")


def test_delete_reports_the_tasks_it_took_along(api: Api, initiative: dict[str, Any]) -> None:
    build, ship = phase(api, initiative, "build"), phase(api, initiative, "ship")
    api.mutation("phase.addDependency", {"phaseId": ship["id"], "dependsOnPhaseId": build["id"]})
    first = api.mutation("task.create", {"name": "a", "phaseId": build["id"]})
    api.mutation("task.create", {"name": "a.1", "parentTaskId": first["id"]})
    api.mutation("task.create", {"name": "b", "phaseId": build["id"]})
    kept = api.mutation("task.create", {"name": "c", "phaseId": ship["id"]})
    api.mutation("task.addDependency", {"taskId": kept["id"], "dependsOnTaskId": first["id"]})

    result = api.mutation("phase.delete", {"id": build["id"]})

    assert (result["id"], result["deleted"]["name"]) == (build["id"], "build")
    assert result["removed"] == {
        "tasks": 3,
        "taskDependencies": 1,
        "phaseDependencies": 1,
        "agentsDetached": 0,
        "conversationsDetached": 0,
    }
    assert api.query("phase.dependencies", {"id": ship["id"]}) == []
    assert api.query("task.get", {"id": kept["id"]})["name"] == "c"
    assert api.fails("mutation", "phase.delete", {"id": build["id"]}).code == "NOT_FOUND"


def test_dependencies_both_ways(api: Api, initiative: dict[str, Any]) -> None:
    design, build, ship = (phase(api, initiative, n) for n in ("design", "build", "ship"))

    edge = api.mutation(
        "phase.addDependency", {"phaseId": build["id"], "dependsOnPhaseId": design["id"]}
    )
    api.mutation("phase.addDependency", {"phaseId": ship["id"], "dependsOnPhaseId": build["id"]})

    assert (edge["phaseId"], edge["dependsOnPhaseId"]) == (build["id"], design["id"])
    assert set(edge) == {"id", "phaseId", "dependsOnPhaseId", "createdAt"}
    assert ids(api.query("phase.dependencies", {"id": build["id"]})) == [design["id"]]
    assert ids(api.query("phase.dependents", {"id": build["id"]})) == [ship["id"]]

    removed = api.mutation(
        "phase.removeDependency", {"phaseId": build["id"], "dependsOnPhaseId": design["id"]}
    )
    assert removed == {"phaseId": build["id"], "dependsOnPhaseId": design["id"]}
    assert api.query("phase.dependencies", {"id": build["id"]}) == []
    again = api.fails(
        "mutation",
        "phase.removeDependency",
        {"phaseId": build["id"], "dependsOnPhaseId": design["id"]},
    )
    assert again.code == "NOT_FOUND"
    assert "does not depend on" in again.message


def test_a_cycle_is_refused_showing_it(api: Api, initiative: dict[str, Any]) -> None:
    a, b, c = (phase(api, initiative, n) for n in "abc")
    api.mutation("phase.addDependency", {"phaseId": b["id"], "dependsOnPhaseId": a["id"]})
    api.mutation("phase.addDependency", {"phaseId": c["id"], "dependsOnPhaseId": b["id"]})

    error = api.fails(
        "mutation", "phase.addDependency", {"phaseId": a["id"], "dependsOnPhaseId": c["id"]}
    )

    assert error.code == "BAD_REQUEST"
    assert error.message == (
        f"phase 'a' ({a['id']}) cannot depend on phase 'c' ({c['id']}): "
        "that would close the cycle 'a' -> 'c' -> 'b' -> 'a'"
    )
    assert api.query("phase.dependencies", {"id": a["id"]}) == []


def test_dependency_reads_of_an_unknown_phase_are_not_found(api: Api) -> None:
    for path in ("phase.dependencies", "phase.dependents"):
        error = api.fails("query", path, {"id": "nope"})
        assert (error.code, error.message) == ("NOT_FOUND", "phase 'nope' not found")
    error = api.fails(
        "mutation", "phase.addDependency", {"phaseId": "nope", "dependsOnPhaseId": "x"}
    )
    assert error.code == "NOT_FOUND"


def test_agents_read_but_do_not_write(api: Api, initiative: dict[str, Any]) -> None:
    a, b = phase(api, initiative, "a"), phase(api, initiative, "b")
    agent = agent_api(api)

    assert agent.query("phase.get", {"id": a["id"]}) == a
    assert ids(agent.query("phase.list", {"initiativeId": initiative["id"]})["items"]) == ids(
        [a, b]
    )
    assert agent.query("phase.dependencies", {"id": a["id"]}) == []
    for path, payload in [
        ("phase.create", {"initiativeId": initiative["id"], "name": "x"}),
        ("phase.update", {"id": a["id"], "name": "x"}),
        ("phase.delete", {"id": a["id"]}),
        ("phase.addDependency", {"phaseId": b["id"], "dependsOnPhaseId": a["id"]}),
        ("phase.removeDependency", {"phaseId": b["id"], "dependsOnPhaseId": a["id"]}),
    ]:
        assert agent.fails("mutation", path, payload).code == "FORBIDDEN", path
    assert api.query("phase.get", {"id": a["id"]}) == a
