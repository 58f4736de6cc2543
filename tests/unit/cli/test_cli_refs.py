"""``cw`` resolves the initiatives, phases and tasks it is given before a command runs:
the handler sends ids, and what it prints names them."""

from __future__ import annotations

from typing import Any

from crosswalk.cli.errors import RemoteError
from tests.unit.cli.cli_fakes import Cw

LOGIN = {"id": "TlogIn000000000000001", "name": "Login API"}
SCHEMA = {"id": "Tschema0000000000002", "name": "Schema"}


def by_name(rows: dict[str, dict[str, Any]]) -> Any:
    return lambda inp: rows[inp["ref"]]


def test_names_become_ids_and_the_confirmation_names_both() -> None:
    cw = Cw()
    cw.client.on("task.resolve", by_name({"Login API": LOGIN, "Sch": SCHEMA}))
    cw.client.on("task.addDependency", {"taskId": LOGIN["id"], "dependsOnTaskId": SCHEMA["id"]})

    result = cw("task", "dep", "add", "Login API", "Sch")

    assert result.code == 0, result.err
    assert result.out == (
        f"task 'Login API' ({LOGIN['id']}) now depends on task 'Schema' ({SCHEMA['id']})\n"
    )
    assert cw.client.calls[-1] == (
        "mutation",
        "task.addDependency",
        {"taskId": LOGIN["id"], "dependsOnTaskId": SCHEMA["id"]},
    )


def test_options_lists_and_cleared_values_are_resolved_as_they_should_be() -> None:
    cw = Cw()
    cw.client.on("initiative.resolve", by_name({"Auth": {"id": "I1", "name": "Auth"}}))
    cw.client.on("phase.resolve", by_name({"Build": {"id": "P1", "name": "Build"}}))
    cw.client.on("project.setForInitiative", {"added": [], "removed": [], "projects": []})
    cw.client.on("task.create", {"id": "T9", "name": "x", "status": "pending"})
    cw.client.on("task.update", {"id": "T9", "name": "x"})

    assert cw("project", "link", "Auth", "PR1", "PR2").code == 0
    assert cw.client.calls[-1][2]["initiativeId"] == "I1"
    assert cw("task", "create", "--phase", "Build", "x").code == 0
    assert cw.client.calls[-1][2]["phaseId"] == "P1"
    cw.client.on("task.resolve", by_name({"x": {"id": "T9", "name": "x"}}))
    assert cw("task", "update", "x", "--phase", "").code == 0  # '' clears: not resolved
    assert cw.client.calls[-1][2] == {"id": "T9", "phaseId": None}


def test_the_servers_refusal_is_shown_as_it_is() -> None:
    cw = Cw()
    ambiguous = RemoteError("BAD_REQUEST", "'Docs' is ambiguous: 2 tasks are named it", 400)
    cw.client.on("task.resolve", ambiguous)

    result = cw("task", "show", "Docs")

    assert (result.code, result.out) == (1, "")
    assert "error: 'Docs' is ambiguous: 2 tasks are named it" in result.err
    assert [path for _, path, _ in cw.client.calls] == ["task.resolve"]


def test_a_server_that_cannot_resolve_gets_the_value_as_typed() -> None:
    cw = Cw()
    cw.client.on("task.resolve", RemoteError("NOT_FOUND", 'No procedure found "task.resolve"', 404))
    cw.client.on("task.approve", {"id": "T1", "name": "x", "status": "completed"})

    assert cw("task", "approve", "T1").code == 0
    assert cw.client.calls[-1] == ("mutation", "task.approve", {"id": "T1"})
