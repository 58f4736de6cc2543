"""``message.*`` over the tRPC wire against the real app: messages and threads, who may
read and send what, and a question to the user answered while its agent waits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from tests.integration.procedures.planning_api import Api

from crosswalk.domain.events import reply_key


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def test_an_agent_sends_as_itself_to_the_user_or_another_agent(api: Api) -> None:
    alice, as_alice = register(api, "alice")
    bob, _ = register(api, "bob")

    to_user = as_alice.mutation("message.create", {"content": "Build is green."})
    to_bob = as_alice.mutation(
        "message.create", {"recipientId": "bob", "content": "Review?", "type": "question"}
    )

    assert (to_user["senderType"], to_user["senderId"]) == ("agent", alice["id"])
    assert (to_user["recipientType"], to_user["recipientId"]) == ("user", None)
    assert (to_user["type"], to_user["status"], to_user["requiresResponse"]) == (
        "info",
        "pending",
        False,
    )
    assert (to_bob["recipientType"], to_bob["recipientId"], to_bob["type"]) == (
        "agent",
        bob["id"],
        "question",
    )
    forged = as_alice.fails("mutation", "message.create", {"senderId": "bob", "content": "hi"})
    as_user = as_alice.fails(
        "mutation", "message.create", {"senderType": "user", "recipientId": "bob", "content": "x"}
    )
    assert (forged.code, as_user.code) == ("FORBIDDEN", "FORBIDDEN")


def test_create_validates_participants(api: Api) -> None:
    register(api, "alice")

    to_self = api.fails("mutation", "message.create", {"content": "note to self"})
    user_with_id = api.fails(
        "mutation",
        "message.create",
        {"recipientType": "user", "recipientId": "alice", "content": "x"},
    )
    agent_without_id = api.fails(
        "mutation", "message.create", {"recipientType": "agent", "content": "x"}
    )
    ghost = api.fails("mutation", "message.create", {"recipientId": "ghost", "content": "x"})
    empty = api.fails("mutation", "message.create", {"recipientId": "alice", "content": ""})
    orphan = api.fails(
        "mutation",
        "message.create",
        {"recipientId": "alice", "content": "x", "parentMessageId": "m404"},
    )

    assert (to_self.code, "recipientType" in to_self.message) == ("BAD_REQUEST", True)
    assert (user_with_id.code, "recipientId" in user_with_id.message) == ("BAD_REQUEST", True)
    assert (agent_without_id.code, "recipientId" in agent_without_id.message) == (
        "BAD_REQUEST",
        True,
    )
    assert (ghost.code, ghost.message) == ("NOT_FOUND", "agent 'ghost' not found")
    assert (empty.code, "content" in empty.message) == ("BAD_REQUEST", True)
    assert (orphan.code, orphan.message) == ("NOT_FOUND", "message 'm404' not found")


def test_an_agent_reads_and_lists_only_its_own_messages(api: Api) -> None:
    alice, as_alice = register(api, "alice")
    bob, as_bob = register(api, "bob")
    register(api, "carol")
    to_bob = as_alice.mutation("message.create", {"recipientId": "bob", "content": "1"})
    to_carol = as_alice.mutation("message.create", {"recipientId": "carol", "content": "2"})
    from_user = api.mutation("message.create", {"recipientId": "bob", "content": "3"})

    inbox = as_bob.query("message.list")
    sent = as_alice.query("message.list", {"senderId": "alice"})

    assert [m["id"] for m in inbox["items"]] == [to_bob["id"], from_user["id"]]
    assert [m["id"] for m in sent["items"]] == [to_bob["id"], to_carol["id"]]
    assert as_bob.query("message.get", {"id": to_bob["id"]})["content"] == "1"
    assert as_bob.fails("query", "message.get", {"id": to_carol["id"]}).code == "FORBIDDEN"
    spying = as_bob.fails("query", "message.list", {"senderId": alice["id"]})
    assert spying.code == "FORBIDDEN"
    every = api.query("message.list", {"recipientType": "agent", "limit": 2})
    assert len(every["items"]) == 2 and every["nextCursor"]
    assert api.query("message.list", {"senderType": "user"})["items"][0]["recipientId"] == bob["id"]


def test_mark_read_is_for_the_recipient(api: Api) -> None:
    _, as_alice = register(api, "alice")
    _, as_bob = register(api, "bob")
    to_bob = as_alice.mutation("message.create", {"recipientId": "bob", "content": "1"})
    to_user = as_alice.mutation("message.create", {"content": "fyi"})

    assert as_alice.fails("mutation", "message.markRead", {"id": to_bob["id"]}).code == "FORBIDDEN"
    assert as_bob.mutation("message.markRead", {"id": to_bob["id"]})["status"] == "read"
    assert as_bob.fails("mutation", "message.markRead", {"id": to_user["id"]}).code == "FORBIDDEN"
    assert api.mutation("message.markRead", {"id": to_user["id"]})["status"] == "read"
    assert api.query("message.pendingForUser") == []


def test_thread_nests_every_reply_from_the_root(api: Api) -> None:
    _, as_alice = register(api, "alice")
    root = as_alice.mutation("message.create", {"content": "root"})
    reply = api.mutation(
        "message.create", {"recipientId": "alice", "content": "r1", "parentMessageId": root["id"]}
    )
    deeper = as_alice.mutation(
        "message.create", {"content": "r1.1", "parentMessageId": reply["id"]}
    )
    second = api.mutation(
        "message.create", {"recipientId": "alice", "content": "r2", "parentMessageId": root["id"]}
    )

    for start in (root, deeper):
        thread = as_alice.query("message.thread", {"id": start["id"]})
        assert thread["id"] == root["id"]
        assert [r["content"] for r in thread["replies"]] == ["r1", "r2"]
        assert [r["content"] for r in thread["replies"][0]["replies"]] == ["r1.1"]
        assert thread["replies"][0]["replies"][0]["replies"] == []
    assert second["parentMessageId"] == root["id"]

    result = api.mutation("message.delete", {"id": root["id"]})
    assert (result["id"], result["removed"]) == (root["id"], {"replies": 3})
    assert api.fails("query", "message.thread", {"id": deeper["id"]}).code == "NOT_FOUND"


def test_a_question_to_the_user_from_ask_to_reply(api: Api) -> None:
    alice, as_alice = register(api, "alice")
    bob, as_bob = register(api, "bob")
    fyi = as_bob.mutation("message.create", {"content": "fyi"})

    question = as_alice.mutation(
        "message.askUser", {"agentId": "alice", "content": "Postgres or SQLite?"}
    )

    assert (question["type"], question["requiresResponse"], question["status"]) == (
        "question",
        True,
        "pending",
    )
    waiting = api.query("agent.get", {"id": "alice"})
    assert waiting["status"] == "waiting_for_input"
    assert waiting["pendingQuestions"] == [
        {
            "messageId": question["id"],
            "text": "Postgres or SQLite?",
            "askedAt": question["createdAt"],
        }
    ]
    inbox = api.query("message.inbox")
    assert [(m["id"], m["senderName"]) for m in inbox] == [
        (fyi["id"], "bob"),
        (question["id"], "alice"),
    ]
    assert as_alice.query("message.waitForReply", {"id": question["id"], "timeoutMs": 0}) == {
        "question": question,
        "reply": None,
    }

    replied = api.mutation("message.reply", {"id": question["id"], "content": "Postgres."})

    assert replied["question"]["status"] == "responded"
    reply = replied["reply"]
    assert (reply["senderType"], reply["recipientType"], reply["recipientId"]) == (
        "user",
        "agent",
        alice["id"],
    )
    assert (reply["type"], reply["parentMessageId"], reply["content"]) == (
        "response",
        question["id"],
        "Postgres.",
    )
    done = as_alice.query("message.waitForReply", {"id": question["id"]})
    taken = done["reply"]  # handed to alice by her wait: read, so no hook repeats it
    assert (reply["status"], taken["status"]) == ("pending", "read")
    assert {**taken, "status": "pending", "updatedAt": reply["updatedAt"]} == reply
    assert api.query("message.waitForReply", {"id": question["id"]})["reply"] == taken
    running = api.query("agent.get", {"id": "alice"})
    assert (running["status"], running["pendingQuestions"]) == ("running", None)
    assert [m["id"] for m in api.query("message.inbox")] == [fyi["id"]]
    thread = api.query("message.thread", {"id": question["id"]})
    assert [r["id"] for r in thread["replies"]] == [reply["id"]]
    twice = api.fails("mutation", "message.reply", {"id": question["id"], "content": "again"})
    assert twice.code == "CONFLICT"
    assert bob["id"] not in json.dumps(replied)


def test_who_may_ask_wait_and_reply(api: Api) -> None:
    _, as_alice = register(api, "alice")
    _, as_bob = register(api, "bob")
    question = as_alice.mutation("message.askUser", {"agentId": "alice", "content": "?"})
    to_bob = as_alice.mutation("message.create", {"recipientId": "bob", "content": "hi"})

    forged = as_bob.fails("mutation", "message.askUser", {"agentId": "alice", "content": "?"})
    eavesdrop = as_bob.fails("query", "message.waitForReply", {"id": question["id"]})
    self_reply = as_alice.fails(
        "mutation", "message.reply", {"id": question["id"], "content": "ok"}
    )
    not_to_user = api.fails("mutation", "message.reply", {"id": to_bob["id"], "content": "x"})
    unknown = api.fails("mutation", "message.reply", {"id": "m404", "content": "x"})

    assert (forged.code, eavesdrop.code, self_reply.code) == ("FORBIDDEN",) * 3
    assert not_to_user.code == "PRECONDITION_FAILED"
    assert unknown.code == "NOT_FOUND"
    for path in ("message.inbox", "message.pendingForUser", "message.requiringResponse"):
        assert as_alice.fails("query", path).code == "FORBIDDEN"
    assert [m["id"] for m in api.query("message.requiringResponse")] == [question["id"]]


def test_a_waiting_agent_wakes_when_the_user_replies(api: Api) -> None:
    agent, as_agent = register(api, "alice")
    question = as_agent.mutation("message.askUser", {"agentId": "alice", "content": "Go?"})
    notifier = api.app.services.changes

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=api.app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            wait_input = json.dumps({"id": question["id"], "timeoutMs": 60_000})
            waiting = asyncio.create_task(
                client.get(
                    "/trpc/message.waitForReply",
                    params={"input": wait_input},
                    headers={"authorization": f"Bearer {agent['token']}"},
                )
            )
            async with asyncio.timeout(10):
                while notifier.waiting(reply_key(question["id"])) == 0:
                    await asyncio.sleep(0.005)
            replied = await client.post(
                "/trpc/message.reply",
                json={"id": question["id"], "content": "Go."},
                headers={"authorization": f"Bearer {api.token}"},
            )
            return await asyncio.wait_for(waiting, 10), replied

    woken, replied = asyncio.run(scenario())

    assert replied.status_code == 200
    state = woken.json()["result"]["data"]
    assert state["question"]["status"] == "responded"
    assert state["reply"]["content"] == "Go."


def test_deleting_a_pending_question_frees_its_agent(api: Api) -> None:
    _, as_alice = register(api, "alice")
    first = as_alice.mutation("message.askUser", {"agentId": "alice", "content": "1?"})
    second = as_alice.mutation("message.askUser", {"agentId": "alice", "content": "2?"})

    api.mutation("message.delete", {"id": first["id"]})
    still = api.query("agent.get", {"id": "alice"})
    api.mutation("message.update", {"id": second["id"], "status": "responded"})
    free = api.query("agent.get", {"id": "alice"})

    assert [q["messageId"] for q in still["pendingQuestions"]] == [second["id"]]
    assert still["status"] == "waiting_for_input"
    assert (free["status"], free["pendingQuestions"]) == ("running", None)
    assert as_alice.fails("mutation", "message.delete", {"id": second["id"]}).code == "FORBIDDEN"
    assert as_alice.fails(
        "mutation", "message.update", {"id": second["id"], "content": "x"}
    ).code == ("FORBIDDEN")
    null_status = api.fails("mutation", "message.update", {"id": second["id"], "status": None})
    assert (null_status.code, "status" in null_status.message) == ("BAD_REQUEST", True)


def test_a_retried_ask_with_the_same_id_asks_once(api: Api) -> None:
    _, as_alice = register(api, "alice")
    payload = {"id": "retry-me-000000000001", "agentId": "alice", "content": "Ship it?"}
    first = as_alice.mutation("message.askUser", payload)
    again = as_alice.mutation("message.askUser", payload)
    assert again == first
    assert [m["id"] for m in api.query("message.inbox")] == [first["id"]]
    pending = api.query("agent.get", {"id": "alice"})["pendingQuestions"]
    assert [q["messageId"] for q in pending] == [first["id"]]


def test_the_waiter_gets_only_the_persons_reply_whatever_else_is_in_the_thread(
    api: Api,
) -> None:
    """Even a response row written past the procedures (an older server let agents write
    one) is never handed to the agent waiting for the person's reply."""
    from crosswalk.domain.enums import MessageType, ParticipantType
    from crosswalk.domain.rows import NewMessage

    asker, as_asker = register(api, "asker")
    forger, _ = register(api, "forger")
    question = as_asker.mutation("message.askUser", {"agentId": asker["id"], "content": "Drop?"})
    api.app.services.repos.messages.create(
        NewMessage(
            sender_type=ParticipantType.AGENT,
            sender_id=forger["id"],
            recipient_type=ParticipantType.AGENT,
            recipient_id=asker["id"],
            type=MessageType.RESPONSE,
            content="YES",
            parent_message_id=question["id"],
        )
    )
    api.mutation("message.reply", {"id": question["id"], "content": "NO"})

    state = as_asker.query("message.waitForReply", {"id": question["id"], "timeoutMs": 0})
    assert state["reply"]["content"] == "NO"
    assert state["reply"]["senderType"] == "user"
