"""``proposal.*`` over the tRPC wire against the real app: agents propose as themselves,
the administrator decides, one at a time or in bulk."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, next_millisecond


@pytest.fixture
def initiative(api: Api) -> dict[str, Any]:
    initiative: dict[str, Any] = api.mutation("initiative.create", {"name": "Cache"})
    return initiative


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def propose(as_agent: Api, agent: str, initiative: dict[str, Any], **fields: Any) -> Any:
    payload = {
        "agentId": agent,
        "initiativeId": initiative["id"],
        "targetType": "task",
        "title": "Add retries",
        **fields,
    }
    return as_agent.mutation("proposal.create", payload)


def test_an_agent_proposes_as_itself(api: Api, initiative: dict[str, Any]) -> None:
    agent, as_agent = register(api, "planner")
    register(api, "other")

    proposal = propose(
        as_agent,
        "planner",
        initiative,
        summary="Retry flaky calls",
        content="## Plan\nBack off.",
        metadata={"confidence": 0.8},
    )

    assert (proposal["agentId"], proposal["status"], proposal["targetId"]) == (
        agent["id"],
        "pending",
        None,
    )
    assert proposal["metadata"] == {"confidence": 0.8}
    assert api.query("proposal.get", {"id": proposal["id"]}) == proposal
    error = as_agent.fails(
        "mutation",
        "proposal.create",
        {"agentId": "other", "initiativeId": initiative["id"], "targetType": "task", "title": "x"},
    )
    assert error.code == "FORBIDDEN"


def test_create_checks_its_references(api: Api, initiative: dict[str, Any]) -> None:
    register(api, "planner")
    base = {"agentId": "planner", "initiativeId": initiative["id"], "title": "x"}

    missing_target = api.fails(
        "mutation", "proposal.create", {**base, "targetType": "phase", "targetId": "p404"}
    )
    bad_type = api.fails("mutation", "proposal.create", {**base, "targetType": "project"})
    no_initiative = api.fails(
        "mutation", "proposal.create", {**base, "targetType": "task", "initiativeId": "i404"}
    )
    no_agent = api.fails(
        "mutation", "proposal.create", {**base, "targetType": "task", "agentId": "ghost"}
    )

    assert (missing_target.code, missing_target.message) == ("NOT_FOUND", "phase 'p404' not found")
    assert (bad_type.code, "targetType" in bad_type.message) == ("BAD_REQUEST", True)
    assert (no_initiative.code, no_initiative.message) == (
        "NOT_FOUND",
        "initiative 'i404' not found",
    )
    assert (no_agent.code, no_agent.message) == ("NOT_FOUND", "agent 'ghost' not found")
    task = api.mutation("task.create", {"name": "T", "initiativeId": initiative["id"]})
    existing = api.mutation(
        "proposal.create", {**base, "targetType": "task", "targetId": task["id"]}
    )
    assert existing["targetId"] == task["id"]


def test_list_filters_pages_and_counts(api: Api, initiative: dict[str, Any]) -> None:
    planner, as_planner = register(api, "planner")
    _, as_other = register(api, "other")
    mine = []
    for i in range(3):
        mine.append(propose(as_planner, "planner", initiative, title=f"p{i}"))
        next_millisecond()
    propose(as_other, "other", initiative)
    api.mutation("proposal.dismiss", {"id": mine[0]["id"]})

    first = api.query("proposal.list", {"agentId": "planner", "limit": 2})
    second = api.query(
        "proposal.list", {"agentId": planner["id"], "limit": 2, "cursor": first["nextCursor"]}
    )
    pending = api.query("proposal.list", {"agentId": "planner", "status": "pending"})

    assert [p["id"] for p in first["items"] + second["items"]] == [p["id"] for p in mine]
    assert [p["id"] for p in pending["items"]] == [mine[1]["id"], mine[2]["id"]]
    assert len(api.query("proposal.list", {"initiativeId": initiative["id"]})["items"]) == 4
    assert api.query("proposal.countByAgent", {"agentId": "planner"})["count"] == 3
    counted = as_other.query("proposal.countByAgent", {"agentId": "planner", "status": "pending"})
    assert counted == {"agentId": planner["id"], "status": "pending", "count": 2}


def test_the_owner_revises_and_the_administrator_decides(
    api: Api, initiative: dict[str, Any]
) -> None:
    _, as_planner = register(api, "planner")
    _, as_other = register(api, "other")
    proposal = propose(as_planner, "planner", initiative)

    revised = as_planner.mutation(
        "proposal.update", {"id": proposal["id"], "title": "Add retries v2", "summary": None}
    )

    assert (revised["title"], revised["summary"]) == ("Add retries v2", None)
    for who, payload in [
        (as_planner, {"id": proposal["id"], "status": "accepted"}),
        (as_other, {"id": proposal["id"], "title": "mine now"}),
    ]:
        assert who.fails("mutation", "proposal.update", payload).code == "FORBIDDEN"
    assert as_planner.fails("mutation", "proposal.accept", {"id": proposal["id"]}).code == (
        "FORBIDDEN"
    )
    null_title = api.fails("mutation", "proposal.update", {"id": proposal["id"], "title": None})
    assert (null_title.code, "title" in null_title.message) == ("BAD_REQUEST", True)

    accepted = api.mutation("proposal.accept", {"id": proposal["id"]})
    assert accepted["status"] == "accepted"
    again = api.fails("mutation", "proposal.dismiss", {"id": proposal["id"]})
    assert again.code == "CONFLICT"
    assert "already accepted" in again.message


def test_bulk_update_touches_only_the_agents_proposals_in_that_status(
    api: Api, initiative: dict[str, Any]
) -> None:
    _, as_planner = register(api, "planner")
    _, as_other = register(api, "other")
    kept = propose(as_planner, "planner", initiative)
    api.mutation("proposal.accept", {"id": kept["id"]})
    pending = [propose(as_planner, "planner", initiative) for _ in range(2)]
    theirs = propose(as_other, "other", initiative)

    result = api.mutation(
        "proposal.updateManyByAgent",
        {"agentId": "planner", "status": "pending", "changes": {"status": "dismissed"}},
    )

    assert result["updated"] == 2
    statuses = {p["id"]: p["status"] for p in api.query("proposal.list", {"limit": 10})["items"]}
    assert statuses == {
        kept["id"]: "accepted",
        pending[0]["id"]: "dismissed",
        pending[1]["id"]: "dismissed",
        theirs["id"]: "pending",
    }
    bad = api.fails(
        "mutation", "proposal.updateManyByAgent", {"agentId": "planner", "changes": {"title": None}}
    )
    assert (bad.code, "changes.title" in bad.message) == ("BAD_REQUEST", True)
    assert as_planner.fails(
        "mutation", "proposal.updateManyByAgent", {"agentId": "planner", "changes": {}}
    ).code == ("FORBIDDEN")


def test_delete_by_owner_or_administrator(api: Api, initiative: dict[str, Any]) -> None:
    _, as_planner = register(api, "planner")
    _, as_other = register(api, "other")
    first = propose(as_planner, "planner", initiative)
    second = propose(as_planner, "planner", initiative)

    assert as_other.fails("mutation", "proposal.delete", {"id": first["id"]}).code == "FORBIDDEN"
    withdrawn = as_planner.mutation("proposal.delete", {"id": first["id"]})
    removed = api.mutation("proposal.delete", {"id": second["id"]})

    assert (withdrawn["id"], withdrawn["deleted"]["title"], withdrawn["removed"]) == (
        first["id"],
        "Add retries",
        {},
    )
    assert removed["id"] == second["id"]
    error = api.fails("query", "proposal.get", {"id": first["id"]})
    assert (error.code, error.message) == ("NOT_FOUND", f"proposal '{first['id']}' not found")
