"""``conversation.waitForAnswer`` over the wire: only the conversation's two agents (or the
admin) may wait on it, and the refusal comes before any waiting."""

from __future__ import annotations

from typing import Any

from tests.integration.procedures.planning_api import Api


def register(api: Api) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {})
    return agent, api.as_token(agent["token"])


def test_participants_and_admin_may_wait_others_are_forbidden(api: Api) -> None:
    alice, as_alice = register(api)
    bob, as_bob = register(api)
    _, as_carol = register(api)
    asked = as_alice.mutation(
        "conversation.ask", {"fromAgentId": alice["id"], "toAgentId": bob["id"], "question": "?"}
    )
    wait = {"id": asked["id"], "timeoutMs": 0}

    for caller in (as_alice, as_bob, api):
        assert caller.query("conversation.waitForAnswer", wait)["status"] == "pending"
    refused = as_carol.fails("query", "conversation.waitForAnswer", {**wait, "timeoutMs": 60_000})
    assert refused.code == "FORBIDDEN"
    assert f"conversation '{asked['id']}'" in refused.message

    as_bob.mutation("conversation.answer", {"id": asked["id"], "answer": "!"})
    answered = as_alice.query("conversation.waitForAnswer", {**wait, "timeoutMs": 60_000})
    assert (answered["status"], answered["answer"]) == ("answered", "!")
    assert as_carol.fails("query", "conversation.waitForAnswer", wait).code == "FORBIDDEN"


def test_waiting_on_an_unknown_conversation_is_not_found(api: Api) -> None:
    _, as_alice = register(api)
    missing = as_alice.fails("query", "conversation.waitForAnswer", {"id": "nope", "timeoutMs": 0})
    assert (missing.code, missing.message) == ("NOT_FOUND", "conversation 'nope' not found")


def test_conversation_list_takes_no_input_at_all(api: Api) -> None:
    """As ``client.conversation.list.query()`` sends it: every filter is optional."""
    assert api.query("conversation.list") == {"items": [], "nextCursor": None}
