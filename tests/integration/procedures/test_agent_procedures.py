"""``agent.*`` over the tRPC wire against the real app: shapes, errors, who may do what,
tokens that never leak, and what a delete takes along."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, next_millisecond

from crosswalk.services.auth import hash_token


def register(api: Api, **fields: Any) -> tuple[dict[str, Any], Api]:
    """A new agent and an ``Api`` acting with its token."""
    agent = api.mutation("agent.create", fields)
    return agent, api.as_token(agent["token"])


def test_create_returns_the_token_once_and_reads_never_show_a_hash(api: Api) -> None:
    agent, _ = register(api, name="worker", worktreeId="/wt/1", mode="plan")

    assert agent["token"].startswith("cw_")
    assert (agent["name"], agent["worktreeId"], agent["mode"], agent["status"]) == (
        "worker",
        "/wt/1",
        "plan",
        "idle",
    )
    responses = [
        api.query("agent.get", {"id": agent["id"]}),
        api.query("agent.get", {"id": "worker"}),
        api.query("agent.list"),
        api.mutation("agent.update", {"id": "worker", "status": "running"}),
    ]
    assert responses[0] == responses[1]
    assert "token" not in responses[0]
    for response in responses:
        text = json.dumps(response)
        assert agent["token"] not in text
        assert hash_token(agent["token"]) not in text
        assert "tokenHash" not in text


def test_get_by_id_or_name_and_unknown_is_not_found(api: Api) -> None:
    error = api.fails("query", "agent.get", {"id": "ghost"})
    assert (error.code, error.message) == ("NOT_FOUND", "agent 'ghost' not found")


def test_list_filters_and_pages(api: Api) -> None:
    initiative = api.mutation("initiative.create", {"name": "Cache"})
    task = api.mutation("task.create", {"name": "Build", "initiativeId": initiative["id"]})
    on_task = []
    for _ in range(3):
        on_task.append(register(api, taskId=task["id"])[0])
        next_millisecond()
    idle = register(api)[0]
    api.mutation("agent.update", {"id": idle["id"], "status": "stopped"})

    first = api.query("agent.list", {"taskId": task["id"], "limit": 2})
    second = api.query(
        "agent.list", {"taskId": task["id"], "limit": 2, "cursor": first["nextCursor"]}
    )

    ids = [a["id"] for a in first["items"] + second["items"]]
    assert ids == [a["id"] for a in on_task]
    assert second["nextCursor"] is None
    assert on_task[0]["initiativeId"] == initiative["id"]  # inherited from the task
    assert [a["id"] for a in api.query("agent.list", {"status": "stopped"})["items"]] == [
        idle["id"]
    ]
    by_initiative = api.query("agent.list", {"initiativeId": initiative["id"]})
    assert len(by_initiative["items"]) == 3
    assert {a["id"] for a in api.query("agent.byTask", {"taskId": task["id"]})} == set(ids)


def test_by_session_finds_the_agent_or_null(api: Api) -> None:
    agent, _ = register(api, sessionId="sess-1")

    assert api.query("agent.bySession", {"sessionId": "sess-1"})["id"] == agent["id"]
    assert api.query("agent.bySession", {"sessionId": "nope"}) is None


def test_update_changes_exactly_the_fields_sent(api: Api) -> None:
    agent, _ = register(api, name="worker")
    initiative = api.mutation("initiative.create", {"name": "X"})

    updated = api.mutation(
        "agent.update",
        {
            "id": "worker",
            "status": "running",
            "pid": 4242,
            "result": {"ok": True, "files": ["a.py"]},
            "initiativeId": initiative["id"],
            "userDismissedAt": "2026-11-26T06:55:43.764Z",
        },
    )

    assert (updated["status"], updated["pid"], updated["result"]) == (
        "running",
        4242,
        {"ok": True, "files": ["a.py"]},
    )
    assert updated["initiativeId"] == initiative["id"]
    assert updated["userDismissedAt"] == "2026-11-26T06:55:43.764Z"
    assert (updated["name"], updated["mode"]) == (agent["name"], agent["mode"])
    cleared = api.mutation("agent.update", {"id": agent["id"], "pid": None, "result": None})
    assert (cleared["pid"], cleared["result"], cleared["status"]) == (None, None, "running")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": None}, "status"),
        ({"status": "asleep"}, "status"),
        ({"pid": -1}, "pid"),
        ({"color": "red"}, "color"),
        ({"userDismissedAt": "2026-11-26T06:55:43"}, "userDismissedAt"),
        ({"name": "has space"}, "name"),
    ],
)
def test_bad_updates_are_bad_request_naming_the_field(
    api: Api, payload: dict[str, Any], field: str
) -> None:
    agent, _ = register(api)

    error = api.fails("mutation", "agent.update", {"id": agent["id"], **payload})

    assert error.code == "BAD_REQUEST"
    assert field in error.message


def test_update_refers_to_things_that_exist(api: Api) -> None:
    agent, _ = register(api)

    assert api.fails("mutation", "agent.update", {"id": "ghost", "pid": 1}).code == "NOT_FOUND"
    error = api.fails("mutation", "agent.update", {"id": agent["id"], "taskId": "t404"})
    assert (error.code, error.message) == ("NOT_FOUND", "task 't404' not found")
    register(api, name="taken")
    error = api.fails("mutation", "agent.update", {"id": agent["id"], "name": "taken"})
    assert error.code == "CONFLICT"


def test_an_agent_reads_agents_and_updates_only_its_own_status_and_result(api: Api) -> None:
    _, as_me = register(api, name="me")
    other, _ = register(api, name="other")

    assert as_me.query("agent.get", {"id": "other"})["id"] == other["id"]
    assert len(as_me.query("agent.list")["items"]) == 2
    mine = as_me.mutation("agent.update", {"id": "me", "status": "running", "result": {"a": 1}})
    assert (mine["status"], mine["result"]) == ("running", {"a": 1})

    for path, payload in [
        ("agent.update", {"id": "me", "sessionId": "s1"}),
        ("agent.update", {"id": "me", "pid": 7}),
        ("agent.update", {"id": "me", "taskId": None}),
        ("agent.update", {"id": "me", "name": "boss"}),
        ("agent.update", {"id": "other", "status": "stopped"}),
        ("agent.create", {}),
        ("agent.delete", {"id": "other"}),
        ("agent.delete", {"id": "me"}),
        ("agent.rotateToken", {"id": "other"}),
    ]:
        error = as_me.fails("mutation", path, payload)
        assert error.code == "FORBIDDEN", (path, payload, error)
    assert "taskId" in as_me.fails("mutation", "agent.update", {"id": "me", "taskId": None}).message
    assert api.query("agent.get", {"id": "other"})["status"] == "idle"


def test_the_administrator_may_record_only_an_output_file_the_runner_would_read(
    api: Api, tmp_path: Path
) -> None:
    agent, _ = register(api, name="worker")
    other, _ = register(api, name="other")
    own = tmp_path / "data" / "agents" / agent["id"] / "session-3.jsonl"

    recorded = api.mutation("agent.update", {"id": "worker", "outputFilePath": str(own)})
    assert recorded["outputFilePath"] == str(own)
    for elsewhere in (
        tmp_path / "data" / "agents" / other["id"] / "session-1.jsonl",
        tmp_path / "data" / "admin-token",
        own.with_name("session-3.stderr"),
        own.parent / ".." / other["id"] / "session-1.jsonl",
    ):
        error = api.fails(
            "mutation", "agent.update", {"id": "worker", "outputFilePath": str(elsewhere)}
        )
        assert error.code == "BAD_REQUEST"
        assert "outputFilePath" in error.message and "own output files" in error.message
    assert api.query("agent.get", {"id": "worker"})["outputFilePath"] == str(own)


def test_rotating_the_token_revokes_the_old_one(api: Api) -> None:
    agent, old = register(api, name="worker")
    assert old.query("agent.get", {"id": "worker"})["id"] == agent["id"]  # now it is cached

    rotated = api.mutation("agent.rotateToken", {"id": "worker"})

    assert rotated["token"] != agent["token"]
    assert old.fails("query", "agent.get", {"id": "worker"}).code == "UNAUTHORIZED"
    new = api.as_token(rotated["token"])
    assert new.query("agent.get", {"id": "worker"})["id"] == agent["id"]
    again = new.mutation("agent.rotateToken", {"id": agent["id"]})  # an agent may rotate its own
    assert new.fails("query", "agent.list").code == "UNAUTHORIZED"
    assert api.as_token(again["token"]).query("agent.list")["items"]


def test_a_deleted_agents_token_is_refused_at_once(api: Api) -> None:
    agent, token = register(api, name="leaving")
    for _ in range(2):  # known to the server, and kept by it
        assert token.query("agent.get", {"id": "leaving"})["id"] == agent["id"]

    api.mutation("agent.delete", {"id": agent["id"]})

    assert token.fails("query", "agent.list").code == "UNAUTHORIZED"


def test_delete_says_what_went_along(api: Api) -> None:
    initiative = api.mutation("initiative.create", {"name": "Cache"})
    doomed, as_doomed = register(api, name="doomed")
    peer, _ = register(api, name="peer")
    as_doomed.mutation(
        "conversation.ask", {"fromAgentId": doomed["id"], "toAgentId": "peer", "question": "?"}
    )
    as_doomed.mutation(
        "proposal.create",
        {
            "agentId": "doomed",
            "initiativeId": initiative["id"],
            "targetType": "task",
            "title": "Add retries",
        },
    )
    as_doomed.mutation("message.askUser", {"agentId": "doomed", "content": "?"})
    as_doomed.mutation("log.append", {"agentId": "doomed", "content": "{}"})

    result = api.mutation("agent.delete", {"id": "doomed"})

    assert result["id"] == doomed["id"]
    assert result["deleted"]["name"] == "doomed"
    assert result["removed"] == {
        "conversations": 1,
        "proposals": 1,
        "messagesDetached": 1,
        "logChunksKept": 1,
    }
    assert api.fails("query", "agent.get", {"id": doomed["id"]}).code == "NOT_FOUND"
    assert api.fails("mutation", "agent.delete", {"id": doomed["id"]}).code == "NOT_FOUND"
    assert api.query("agent.get", {"id": peer["id"]})["status"] == "idle"
