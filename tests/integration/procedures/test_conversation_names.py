"""The agent names beside each question (``fromAgentName``, ``toAgentName``): an agent that
made a request lately is named from the token cache, and a rename shows at once."""

from __future__ import annotations

from typing import Any

from tests.integration.procedures.planning_api import Api


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def names(found: dict[str, Any]) -> tuple[str, str]:
    return found["fromAgentName"], found["toAgentName"]


def test_a_renamed_asker_is_shown_by_its_new_name_at_once(api: Api) -> None:
    asker, as_asker = register(api, "alice")
    answerer, as_answerer = register(api, "bob")
    asked = as_asker.mutation(
        "conversation.ask", {"fromAgentId": asker["id"], "toAgentId": "bob", "question": "?"}
    )
    [listened] = as_answerer.query(
        "conversation.listen", {"agentId": answerer["id"], "timeoutMs": 1000}
    )
    assert names(listened) == ("alice", "bob")

    api.mutation("agent.update", {"id": asker["id"], "name": "alicia"})

    found = as_answerer.query("conversation.get", {"id": asked["id"]})
    assert names(found) == ("alicia", "bob")
    [pending] = as_answerer.query("conversation.pending", {"agentId": answerer["id"]})
    assert names(pending) == ("alicia", "bob")
    as_asker.query("conversation.get", {"id": asked["id"]})  # alicia's token, cached again
    assert names(as_answerer.query("conversation.get", {"id": asked["id"]})) == ("alicia", "bob")


def test_an_agent_that_never_made_a_request_is_named_from_the_database(api: Api) -> None:
    asker, as_asker = register(api, "carol")
    api.mutation("agent.create", {"name": "dave"})
    asked = as_asker.mutation(
        "conversation.ask", {"fromAgentId": asker["id"], "toAgentId": "dave", "question": "?"}
    )
    assert names(as_asker.query("conversation.get", {"id": asked["id"]})) == ("carol", "dave")
    assert names(api.query("conversation.get", {"id": asked["id"]})) == ("carol", "dave")


def test_a_listener_hears_the_name_of_an_asker_it_must_read(api: Api) -> None:
    asker = api.mutation("agent.create", {"name": "erin"})  # asks through the admin
    answerer, as_answerer = register(api, "frank")
    api.mutation(
        "conversation.ask", {"fromAgentId": asker["id"], "toAgentId": "frank", "question": "?"}
    )
    [listened] = as_answerer.query(
        "conversation.listen", {"agentId": answerer["id"], "timeoutMs": 1000}
    )
    assert names(listened) == ("erin", "frank")
