"""``log.*`` over the tRPC wire against the real app: sessions, order, the agent's name
kept with each chunk, and logs that outlive their agent."""

from __future__ import annotations

from typing import Any

from tests.integration.procedures.planning_api import Api


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def append(as_agent: Api, agent: str, content: str, session: int | None = None) -> Any:
    payload: dict[str, Any] = {"agentId": agent, "content": content}
    if session is not None:
        payload["sessionNumber"] = session
    return as_agent.mutation("log.append", payload)


def test_chunks_join_the_latest_session_unless_told(api: Api) -> None:
    agent, as_agent = register(api, "worker")

    first = append(as_agent, "worker", '{"n":1}\n')
    append(as_agent, agent["id"], '{"n":2}\n')
    resumed = append(as_agent, "worker", '{"n":3}\n', session=2)
    later = append(as_agent, "worker", '{"n":4}\n')

    assert (first["agentId"], first["agentName"], first["sessionNumber"]) == (
        agent["id"],
        "worker",
        1,
    )
    assert (resumed["sessionNumber"], later["sessionNumber"]) == (2, 2)
    everything = as_agent.query("log.forAgent", {"agentId": "worker"})
    assert [c["content"] for c in everything] == [
        '{"n":1}\n',
        '{"n":2}\n',
        '{"n":3}\n',
        '{"n":4}\n',
    ]
    session_one = api.query("log.forAgent", {"agentId": agent["id"], "sessionNumber": 1})
    assert [c["content"] for c in session_one] == ['{"n":1}\n', '{"n":2}\n']
    assert api.query("log.sessionCount", {"agentId": "worker"}) == {
        "agentId": agent["id"],
        "sessionCount": 2,
    }


def test_chunks_keep_the_name_the_agent_had(api: Api) -> None:
    _, as_agent = register(api, "worker")
    append(as_agent, "worker", "before")
    api.mutation("agent.update", {"id": "worker", "name": "renamed"})
    append(as_agent, "renamed", "after")

    names = [c["agentName"] for c in api.query("log.forAgent", {"agentId": "renamed"})]

    assert names == ["worker", "renamed"]


def test_an_agent_writes_and_reads_only_its_own_log(api: Api) -> None:
    _, as_worker = register(api, "worker")
    _, as_other = register(api, "other")
    append(as_worker, "worker", "mine")

    assert as_other.fails("mutation", "log.append", {"agentId": "worker", "content": "x"}).code == (
        "FORBIDDEN"
    )
    assert as_other.fails("query", "log.forAgent", {"agentId": "worker"}).code == "FORBIDDEN"
    assert as_other.fails("query", "log.sessionCount", {"agentId": "worker"}).code == "FORBIDDEN"
    deleting = as_worker.fails("mutation", "log.deleteForAgent", {"agentId": "worker"})
    assert deleting.code == "FORBIDDEN"
    assert api.query("log.forAgent", {"agentId": "worker"})[0]["content"] == "mine"


def test_bad_input_and_unknown_agents(api: Api) -> None:
    register(api, "worker")

    empty = api.fails("mutation", "log.append", {"agentId": "worker", "content": ""})
    session = api.fails(
        "mutation", "log.append", {"agentId": "worker", "content": "x", "sessionNumber": 0}
    )
    ghost = api.fails("mutation", "log.append", {"agentId": "ghost", "content": "x"})

    assert (empty.code, "content" in empty.message) == ("BAD_REQUEST", True)
    assert (session.code, "sessionNumber" in session.message) == ("BAD_REQUEST", True)
    assert (ghost.code, ghost.message) == ("NOT_FOUND", "agent 'ghost' not found")
    assert api.query("log.forAgent", {"agentId": "ghost"}) == []
    assert api.query("log.sessionCount", {"agentId": "ghost"})["sessionCount"] == 0


def test_the_log_outlives_the_agent_until_deleted(api: Api) -> None:
    agent, as_agent = register(api, "worker")
    append(as_agent, "worker", "a")
    append(as_agent, "worker", "b", session=2)

    api.mutation("agent.delete", {"id": "worker"})
    kept = api.query("log.forAgent", {"agentId": agent["id"]})
    result = api.mutation("log.deleteForAgent", {"agentId": agent["id"]})

    assert [c["content"] for c in kept] == ["a", "b"]
    assert result == {"agentId": agent["id"], "removed": {"agentLogChunks": 2}}
    assert api.query("log.forAgent", {"agentId": agent["id"]}) == []
    assert api.mutation("log.deleteForAgent", {"agentId": agent["id"]})["removed"] == {
        "agentLogChunks": 0
    }
