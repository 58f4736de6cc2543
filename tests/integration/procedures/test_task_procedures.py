"""``task.*`` over the wire: CRUD, dependencies, subtasks, approval and readiness."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, agent_api, next_millisecond

Row = dict[str, Any]


@pytest.fixture
def initiative(api: Api) -> Row:
    """An initiative whose tasks need no approval unless they say so."""
    created: Row = api.mutation(
        "initiative.create", {"name": "auth", "mergeRequiresApproval": False}
    )
    return created


@pytest.fixture
def phase(api: Api, initiative: Row) -> Row:
    created: Row = api.mutation("phase.create", {"initiativeId": initiative["id"], "name": "build"})
    return created


def task(api: Api, name: str, **fields: Any) -> Row:
    created: Row = api.mutation("task.create", {"name": name, **fields})
    return created


def ids(rows: list[Row]) -> list[str]:
    return [row["id"] for row in rows]


def complete(api: Api, row: Row) -> None:
    api.mutation("task.update", {"id": row["id"], "status": "completed"})


# --- create and get ---------------------------------------------------------------


def test_create_takes_the_phases_initiative_and_shows_effective_approval(
    api: Api, initiative: Row, phase: Row
) -> None:
    created = task(
        api,
        "login form",
        phaseId=phase["id"],
        description="email + password",
        type="checkpoint:human-verify",
        category="research",
        priority="high",
        order=3,
    )

    assert set(created) == {
        "id",
        "phaseId",
        "initiativeId",
        "parentTaskId",
        "name",
        "description",
        "type",
        "category",
        "priority",
        "status",
        "requiresApproval",
        "order",
        "createdAt",
        "updatedAt",
        "requiresApprovalEffective",
    }
    assert created["initiativeId"] == initiative["id"]
    assert (created["type"], created["category"], created["priority"], created["order"]) == (
        "checkpoint:human-verify",
        "research",
        "high",
        3,
    )
    assert (created["status"], created["requiresApproval"]) == ("pending", None)
    assert created["requiresApprovalEffective"] is False
    assert api.query("task.get", {"id": created["id"]}) == created


@pytest.mark.parametrize(
    ("initiative_flag", "task_flag", "effective"),
    [(True, None, True), (True, False, False), (False, True, True), (False, None, False)],
)
def test_every_new_task_starts_pending_approval_gates_only_its_merge(
    api: Api, initiative_flag: bool, task_flag: bool | None, effective: bool
) -> None:
    owner = api.mutation(
        "initiative.create", {"name": "x", "mergeRequiresApproval": initiative_flag}
    )

    created = task(api, "t", initiativeId=owner["id"], requiresApproval=task_flag)

    assert (created["status"], created["requiresApprovalEffective"]) == ("pending", effective)
    assert ids(api.query("task.ready", {"initiativeId": owner["id"]})) == [created["id"]]


def test_an_explicit_status_is_kept(api: Api) -> None:
    owner = api.mutation("initiative.create", {"name": "x"})  # approval required

    created = task(api, "t", initiativeId=owner["id"], status="in_progress")

    assert created["status"] == "in_progress"


def test_a_subtask_takes_its_parents_initiative(api: Api, initiative: Row) -> None:
    parent = task(api, "parent", initiativeId=initiative["id"])

    child = task(api, "child", parentTaskId=parent["id"])

    assert (child["parentTaskId"], child["initiativeId"]) == (parent["id"], initiative["id"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "t", "priority": "urgent"}, "priority"),
        ({"name": "t", "type": "manual"}, "type"),
        ({"name": "t", "phase": "p"}, "phase"),
        ({"name": "t", "order": "first"}, "order"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    api: Api, payload: dict[str, Any], field: str
) -> None:
    error = api.fails("mutation", "task.create", payload)

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")


def test_create_names_an_unknown_reference(api: Api) -> None:
    error = api.fails("mutation", "task.create", {"name": "t", "phaseId": "p0"})

    assert (error.code, error.message) == ("NOT_FOUND", "phase 'p0' not found")


def test_get_unknown_is_not_found(api: Api) -> None:
    error = api.fails("query", "task.get", {"id": "t0"})

    assert (error.code, error.message) == ("NOT_FOUND", "task 't0' not found")


# --- list ---------------------------------------------------------------------------


def test_list_filters_and_pages(api: Api, initiative: Row, phase: Row) -> None:
    a = task(api, "a", phaseId=phase["id"])
    next_millisecond()
    b = task(api, "b", parentTaskId=a["id"])
    next_millisecond()
    c = task(api, "c", initiativeId=initiative["id"], status="completed")
    next_millisecond()
    loose = task(api, "loose")

    assert ids(api.query("task.list")["items"]) == ids([a, b, c, loose])
    assert ids(api.query("task.list", {"initiativeId": initiative["id"]})["items"]) == ids(
        [a, b, c]
    )
    assert ids(api.query("task.list", {"phaseId": phase["id"]})["items"]) == [a["id"]]
    assert ids(api.query("task.list", {"parentTaskId": a["id"]})["items"]) == [b["id"]]
    assert ids(api.query("task.list", {"status": "completed"})["items"]) == [c["id"]]
    first = api.query("task.list", {"limit": 3})
    assert ids(first["items"]) == ids([a, b, c])
    rest = api.query("task.list", {"limit": 3, "cursor": first["nextCursor"]})
    assert (ids(rest["items"]), rest["nextCursor"]) == ([loose["id"]], None)
    error = api.fails("query", "task.list", {"limit": 0})
    assert (error.code, error.message.split(":")[0]) == ("BAD_REQUEST", "limit")


# --- update -------------------------------------------------------------------------


def test_update_changes_exactly_the_fields_sent(api: Api, initiative: Row, phase: Row) -> None:
    created = task(api, "a", initiativeId=initiative["id"], description="old")

    updated = api.mutation(
        "task.update",
        {
            "id": created["id"],
            "status": "in_progress",
            "priority": "low",
            "order": 7,
            "requiresApproval": True,
            "phaseId": phase["id"],
            "description": None,
        },
    )

    assert (updated["status"], updated["priority"], updated["order"]) == ("in_progress", "low", 7)
    assert (updated["phaseId"], updated["description"], updated["name"]) == (phase["id"], None, "a")
    assert (updated["requiresApproval"], updated["requiresApprovalEffective"]) == (True, True)
    inherited = api.mutation("task.update", {"id": created["id"], "requiresApproval": None})
    assert (inherited["requiresApproval"], inherited["requiresApprovalEffective"]) == (None, False)
    assert inherited["status"] == "in_progress"


def test_update_moves_a_task_under_a_parent_and_out(api: Api, initiative: Row) -> None:
    parent = task(api, "parent", initiativeId=initiative["id"])
    child = task(api, "child", initiativeId=initiative["id"])

    moved = api.mutation("task.update", {"id": child["id"], "parentTaskId": parent["id"]})
    assert moved["parentTaskId"] == parent["id"]
    assert ids(api.query("task.subtasks", {"id": parent["id"]})) == [child["id"]]

    cycle = api.fails("mutation", "task.update", {"id": parent["id"], "parentTaskId": child["id"]})
    assert cycle.code == "BAD_REQUEST"
    assert "its own ancestor" in cycle.message

    detached = api.mutation("task.update", {"id": child["id"], "parentTaskId": None})
    assert detached["parentTaskId"] is None


def test_update_refuses_a_phase_of_another_initiative(api: Api, initiative: Row) -> None:
    created = task(api, "a", initiativeId=initiative["id"])
    elsewhere = api.mutation("initiative.create", {"name": "billing"})
    their_phase = api.mutation("phase.create", {"initiativeId": elsewhere["id"], "name": "p"})

    error = api.fails(
        "mutation", "task.update", {"id": created["id"], "phaseId": their_phase["id"]}
    )

    assert error.code == "BAD_REQUEST"
    assert their_phase["id"] in error.message


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": None}, "name"),
        ({"status": None}, "status"),
        ({"status": "done"}, "status"),
        ({"initiativeId": "x"}, "initiativeId"),
    ],
)
def test_update_refuses_bad_input_naming_the_field(
    api: Api, initiative: Row, payload: dict[str, Any], field: str
) -> None:
    created = task(api, "a", initiativeId=initiative["id"])

    error = api.fails("mutation", "task.update", {"id": created["id"], **payload})

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")
    assert api.query("task.get", {"id": created["id"]}) == created


# --- delete -------------------------------------------------------------------------


def test_delete_reports_subtasks_dependencies_and_detached_agents(
    api: Api, initiative: Row
) -> None:
    parent = task(api, "parent", initiativeId=initiative["id"])
    child = task(api, "child", parentTaskId=parent["id"])
    task(api, "grandchild", parentTaskId=child["id"])
    other = task(api, "other", initiativeId=initiative["id"])
    api.mutation("task.addDependency", {"taskId": other["id"], "dependsOnTaskId": child["id"]})
    api.mutation("agent.create", {"name": "worker", "taskId": child["id"]})

    result = api.mutation("task.delete", {"id": parent["id"]})

    assert (result["id"], result["deleted"]["name"]) == (parent["id"], "parent")
    assert result["removed"] == {
        "tasks": 2,
        "taskDependencies": 1,
        "agentsDetached": 1,
        "conversationsDetached": 0,
    }
    assert api.query("task.dependencies", {"id": other["id"]}) == []
    assert api.fails("query", "task.get", {"id": child["id"]}).code == "NOT_FOUND"


def test_delete_unknown_is_not_found(api: Api) -> None:
    error = api.fails("mutation", "task.delete", {"id": "t0"})

    assert (error.code, error.message) == ("NOT_FOUND", "task 't0' not found")


# --- dependencies and subtasks -----------------------------------------------------


def test_dependencies_both_ways(api: Api, initiative: Row) -> None:
    a, b, c = (task(api, n, initiativeId=initiative["id"]) for n in "abc")

    edge = api.mutation("task.addDependency", {"taskId": c["id"], "dependsOnTaskId": a["id"]})
    api.mutation("task.addDependency", {"taskId": c["id"], "dependsOnTaskId": b["id"]})

    assert set(edge) == {"id", "taskId", "dependsOnTaskId", "createdAt"}
    assert (edge["taskId"], edge["dependsOnTaskId"]) == (c["id"], a["id"])
    assert ids(api.query("task.dependencies", {"id": c["id"]})) == ids([a, b])
    assert ids(api.query("task.dependents", {"id": a["id"]})) == [c["id"]]
    removed = api.mutation("task.removeDependency", {"taskId": c["id"], "dependsOnTaskId": a["id"]})
    assert removed == {"taskId": c["id"], "dependsOnTaskId": a["id"]}
    assert ids(api.query("task.dependencies", {"id": c["id"]})) == [b["id"]]


def test_a_cycle_is_refused_showing_the_path(api: Api, initiative: Row) -> None:
    a, b = (task(api, n, initiativeId=initiative["id"]) for n in "ab")
    api.mutation("task.addDependency", {"taskId": b["id"], "dependsOnTaskId": a["id"]})

    error = api.fails(
        "mutation", "task.addDependency", {"taskId": a["id"], "dependsOnTaskId": b["id"]}
    )
    selfish = api.fails(
        "mutation", "task.addDependency", {"taskId": a["id"], "dependsOnTaskId": a["id"]}
    )

    assert error.code == "BAD_REQUEST"
    assert error.message == (
        f"task 'a' ({a['id']}) cannot depend on task 'b' ({b['id']}): "
        "that would close the cycle 'a' -> 'b' -> 'a'"
    )
    assert (selfish.code, selfish.message) == (
        "BAD_REQUEST",
        f"task 'a' ({a['id']}) cannot depend on itself",
    )


def test_subtasks_in_planned_order(api: Api, initiative: Row) -> None:
    parent = task(api, "parent", initiativeId=initiative["id"])
    later = task(api, "later", parentTaskId=parent["id"], order=2)
    sooner = task(api, "sooner", parentTaskId=parent["id"], order=1)

    assert ids(api.query("task.subtasks", {"id": parent["id"]})) == ids([sooner, later])


@pytest.mark.parametrize("path", ["task.dependencies", "task.dependents", "task.subtasks"])
def test_reads_about_an_unknown_task_are_not_found(api: Api, path: str) -> None:
    error = api.fails("query", path, {"id": "t0"})

    assert (error.code, error.message) == ("NOT_FOUND", "task 't0' not found")


# --- approval and readiness ---------------------------------------------------------


def test_approving_a_task_created_pending_approval_that_never_ran_lets_it_start(
    api: Api,
) -> None:
    owner = api.mutation("initiative.create", {"name": "x"})
    other = api.mutation("initiative.create", {"name": "y"})
    held = task(api, "held", initiativeId=owner["id"], status="pending_approval")
    theirs = task(api, "theirs", initiativeId=other["id"], status="pending_approval")

    assert ids(api.query("task.pendingApproval")) == ids([held, theirs])
    assert ids(api.query("task.pendingApproval", {"initiativeId": owner["id"]})) == [held["id"]]
    assert api.query("task.ready", {"initiativeId": owner["id"]}) == []
    approved = api.mutation("task.approve", {"id": held["id"]})
    assert (approved["status"], approved["requiresApprovalEffective"]) == ("pending", True)
    assert ids(api.query("task.pendingApproval", {"initiativeId": owner["id"]})) == []
    assert ids(api.query("task.ready", {"initiativeId": owner["id"]})) == [held["id"]]

    again = api.fails("mutation", "task.approve", {"id": held["id"]})
    assert (again.code, again.message) == (
        "PRECONDITION_FAILED",
        f"task 'held' ({held['id']}) is pending, not pending_approval; "
        "only a pending_approval task can be approved",
    )
    assert api.fails("mutation", "task.approve", {"id": "t0"}).code == "NOT_FOUND"


def test_retry_merge_needs_a_blocked_task(api: Api, initiative: Row) -> None:
    pending = task(api, "t", initiativeId=initiative["id"])
    error = api.fails("mutation", "task.retryMerge", {"id": pending["id"]})
    assert (error.code, error.message) == (
        "PRECONDITION_FAILED",
        f"task 't' ({pending['id']}) is pending, not blocked; "
        "only a blocked task can have its merge retried",
    )
    blocked = task(api, "b", initiativeId=initiative["id"], status="blocked")
    retried = api.mutation("task.retryMerge", {"id": blocked["id"]})
    assert retried["status"] == "pending"  # no agent, no work: back to be dispatched


def test_ready_follows_completion_priority_and_approval(
    api: Api, initiative: Row, phase: Row
) -> None:
    design = task(api, "design", phaseId=phase["id"])
    build = task(api, "build", phaseId=phase["id"], priority="high")
    review = task(api, "review", phaseId=phase["id"], requiresApproval=True)
    quick = task(api, "quick", phaseId=phase["id"], priority="high", order=-1)
    api.mutation("task.addDependency", {"taskId": build["id"], "dependsOnTaskId": design["id"]})
    api.mutation("task.addDependency", {"taskId": review["id"], "dependsOnTaskId": build["id"]})

    def ready(**filters: Any) -> list[str]:
        return ids(api.query("task.ready", filters))

    assert ready() == ids([quick, design])
    complete(api, design)
    assert ready() == ids([quick, build])  # high priority first, then order
    complete(api, build)
    # approval gates the merge, not the start: review is ready like any other task
    assert ready(initiativeId=initiative["id"]) == ids([quick, review])
    assert ready(phaseId=phase["id"]) == ids([quick, review])
    elsewhere = api.mutation("initiative.create", {"name": "billing"})
    assert ready(initiativeId=elsewhere["id"]) == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"initiativeId": "i0"}, "initiative 'i0' not found"),
        ({"phaseId": "p0"}, "phase 'p0' not found"),
    ],
)
def test_ready_with_an_unknown_scope_is_not_found(
    api: Api, filters: dict[str, str], message: str
) -> None:
    error = api.fails("query", "task.ready", filters)

    assert (error.code, error.message) == ("NOT_FOUND", message)


def test_agents_read_but_do_not_write(api: Api, initiative: Row) -> None:
    a = task(api, "a", initiativeId=initiative["id"])
    b = task(api, "b", initiativeId=initiative["id"], status="pending_approval")
    agent = agent_api(api, name="reader")

    assert agent.query("task.get", {"id": a["id"]}) == a
    assert ids(agent.query("task.ready")) == [a["id"]]  # b waits for its approval
    assert ids(agent.query("task.pendingApproval")) == [b["id"]]
    assert ids(agent.query("task.list")["items"]) == ids([a, b])
    for path, payload in [
        ("task.create", {"name": "x"}),
        ("task.update", {"id": a["id"], "status": "completed"}),
        ("task.delete", {"id": a["id"]}),
        ("task.approve", {"id": b["id"]}),
        ("task.retryMerge", {"id": b["id"]}),
        ("task.addDependency", {"taskId": b["id"], "dependsOnTaskId": a["id"]}),
        ("task.removeDependency", {"taskId": b["id"], "dependsOnTaskId": a["id"]}),
    ]:
        assert agent.fails("mutation", path, payload).code == "FORBIDDEN", path
    assert api.query("task.get", {"id": b["id"]})["status"] == "pending_approval"


def test_the_phase_follows_its_tasks(api: Api, phase: Row) -> None:
    first = task(api, "first", phaseId=phase["id"])
    second = task(api, "second", phaseId=phase["id"])

    def phase_status() -> str:
        return str(api.query("phase.get", {"id": phase["id"]})["status"])

    assert phase_status() == "pending"
    api.mutation("task.update", {"id": first["id"], "status": "in_progress"})
    assert phase_status() == "in_progress"
    api.mutation("task.update", {"id": first["id"], "status": "completed"})
    assert phase_status() == "in_progress"  # one done, one to go
    api.mutation("task.update", {"id": second["id"], "status": "completed"})
    assert phase_status() == "completed"
    late = task(api, "late", phaseId=phase["id"])
    assert phase_status() == "in_progress"  # new work reopens it
    api.mutation("task.delete", {"id": late["id"]})
    assert phase_status() == "completed"
