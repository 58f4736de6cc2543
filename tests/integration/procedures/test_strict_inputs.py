"""Booleans and integers must be JSON booleans and integers, in every procedure: a
string or a boolean where a number belongs is refused with the field named, never
coerced (``"yes"`` is not ``true``, ``"5"`` is not ``5``, ``true`` is not ``1``)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from tests.integration.procedures.planning_api import Api

from crosswalk.server.app import build_router
from crosswalk.server.procedures._inputs import ApiInput


def strict_fields() -> list[tuple[str, str, type]]:
    """``(procedure, JSON field, bool or int)`` for every strict field the router has."""
    found = []
    for procedure in build_router():
        model = procedure.input_model
        if model is None or not issubclass(model, ApiInput):
            continue
        for name, kind in model._strict_fields.items():
            alias = model.model_fields[name].alias or name
            found.append((procedure.path, alias, kind))
    return found


STRICT = strict_fields()


def test_the_known_lax_fields_are_among_them() -> None:
    fields = {(path, field) for path, field, _ in STRICT}
    assert {
        ("initiative.create", "mergeRequiresApproval"),
        ("task.create", "order"),
        ("task.update", "order"),
        ("conversation.listen", "timeoutMs"),
        ("message.waitForReply", "timeoutMs"),
        ("task.create", "requiresApproval"),
    } <= fields


@pytest.mark.parametrize(("path", "field", "kind"), STRICT)
def test_every_strict_field_refuses_other_json_types(path: str, field: str, kind: type) -> None:
    model = build_router().procedures[path].input_model
    assert model is not None
    wrong: list[Any] = ["yes", "1", 1] if kind is bool else ["5", True, 5.5]
    for value in wrong:
        with pytest.raises(ValidationError) as refused:
            model.model_validate({field: value})
        errors = [e for e in refused.value.errors() if e["loc"] == (field,)]
        assert errors, f"{path}.{field} accepted {value!r}"
        if not isinstance(value, float):
            assert errors[0]["type"] == ("strict_bool" if kind is bool else "strict_int")


@pytest.mark.parametrize(
    ("kind", "path", "payload", "field"),
    [
        (
            "mutation",
            "initiative.create",
            {"name": "i", "mergeRequiresApproval": "yes"},
            "mergeRequiresApproval",
        ),
        ("mutation", "task.create", {"name": "t", "order": True}, "order"),
        ("mutation", "task.create", {"name": "t", "order": "5"}, "order"),
        ("query", "conversation.listen", {"agentId": "a", "timeoutMs": "5"}, "timeoutMs"),
    ],
)
def test_over_the_wire_the_field_is_named(
    api: Api, kind: str, path: str, payload: dict[str, Any], field: str
) -> None:
    error = api.fails(kind, path, payload)
    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: must be a JSON ")


@pytest.mark.parametrize("field", ["worktreeId", "sessionId", "outputFilePath", "provider"])
def test_values_that_become_file_names_or_arguments_are_one_line(api: Api, field: str) -> None:
    agent = api.mutation("agent.create", {"name": "runner"})
    error = api.fails("mutation", "agent.update", {"id": agent["id"], field: "a\nb"})
    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: must not contain control characters")
