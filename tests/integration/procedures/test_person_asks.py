"""``conversation.ask`` without ``fromAgentId``: the admin token asks as the person, an
agent token as its own agent; the person's question is read, listened to, answered and
waited for like any other, and only its agent (or the admin) sees it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, ProcedureError


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def test_the_admin_token_asks_as_the_person(api: Api) -> None:
    bob, as_bob = register(api, "bob")
    asked = api.mutation("conversation.ask", {"toAgentId": "bob", "question": "what changed?"})
    assert asked["fromAgentId"] is None

    [heard] = as_bob.query("conversation.listen", {"agentId": bob["id"], "timeoutMs": 1000})
    assert (heard["id"], heard["fromAgentId"], heard["fromAgentName"]) == (asked["id"], None, None)
    [checked] = as_bob.mutation("agent.checkIn", {"agentId": bob["id"]})["questions"]
    assert (checked["fromAgentId"], checked["fromAgentName"], checked["fromTaskId"]) == (
        None,
        None,
        None,
    )
    as_bob.mutation("conversation.answer", {"id": asked["id"], "answer": "the schema"})
    done = api.query("conversation.waitForAnswer", {"id": asked["id"], "timeoutMs": 1000})
    assert (done["status"], done["answer"]) == ("answered", "the schema")
    assert as_bob.query("conversation.get", {"id": asked["id"]})["toAgentName"] == "bob"


def test_an_agent_token_without_an_asker_asks_as_its_agent(api: Api) -> None:
    alice, as_alice = register(api, "alice")
    register(api, "bob")
    asked = as_alice.mutation("conversation.ask", {"toAgentId": "bob", "question": "?"})
    assert asked["fromAgentId"] == alice["id"]


def test_another_agent_cannot_read_the_persons_question(api: Api) -> None:
    register(api, "bob")
    _, as_carol = register(api, "carol")
    asked = api.mutation("conversation.ask", {"toAgentId": "bob", "question": "?"})
    with pytest.raises(ProcedureError) as refused:
        as_carol.query("conversation.get", {"id": asked["id"]})
    assert refused.value.code == "FORBIDDEN"


def test_the_person_cannot_ask_for_a_hook_delivery(api: Api) -> None:
    register(api, "bob")
    with pytest.raises(ProcedureError) as refused:
        api.mutation(
            "conversation.ask", {"toAgentId": "bob", "question": "?", "deliverAnswer": True}
        )
    assert refused.value.code == "BAD_REQUEST"
    assert "cw wait" in str(refused.value)
    assert api.query("conversation.list", {})["items"] == []
