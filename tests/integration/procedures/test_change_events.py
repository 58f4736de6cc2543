"""Each change publishes exactly its events, after the commit and never for a refused
change; deleting an agent ends its askers' waits at once, saying why."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from tests.integration.procedures.planning_api import Api

from crosswalk.domain.enums import AgentStatus, PhaseStatus, TaskStatus
from crosswalk.domain.events import (
    Action,
    AgentStatusChanged,
    EntityChanged,
    Event,
    LogChunkAppended,
    PhaseStatusChanged,
    QuestionAnswered,
    QuestionAsked,
    QuestionWithdrawn,
    TaskStatusChanged,
    UserQuestionAsked,
    UserQuestionReplied,
    answer_key,
    question_key,
)


@pytest.fixture
def published(api: Api, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Event, ...]]:
    """What each committed unit of work handed to the change stream, one tuple each."""
    stream = api.app.services.changes
    committed: list[tuple[Event, ...]] = []
    deliver = stream.publish_committed

    def record(events: Any) -> None:
        committed.append(tuple(events))
        deliver(events)

    monkeypatch.setattr(stream, "publish_committed", record)
    return committed


def register(api: Api, name: str) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", {"name": name})
    return agent, api.as_token(agent["token"])


def test_each_change_publishes_exactly_its_events(
    api: Api, published: list[tuple[Event, ...]]
) -> None:
    alice, as_alice = register(api, "alice")
    bob, as_bob = register(api, "bob")
    assert published == [
        (EntityChanged("agent", alice["id"], Action.CREATED),),
        (EntityChanged("agent", bob["id"], Action.CREATED),),
    ]
    published.clear()

    asked = as_alice.mutation(
        "conversation.ask", {"fromAgentId": alice["id"], "toAgentId": "bob", "question": "?"}
    )
    assert published == [(QuestionAsked(asked["id"], alice["id"], bob["id"]),)]
    published.clear()

    as_bob.mutation("conversation.answer", {"id": asked["id"], "answer": "!"})
    assert published == [(QuestionAnswered(asked["id"], alice["id"], bob["id"]),)]
    published.clear()

    again = as_bob.fails("mutation", "conversation.answer", {"id": asked["id"], "answer": "?"})
    assert again.code == "CONFLICT"
    assert published == []  # a refused change tells nobody anything

    question = as_alice.mutation("message.askUser", {"agentId": "alice", "content": "Go?"})
    assert published == [
        (
            EntityChanged("message", question["id"], Action.CREATED),
            UserQuestionAsked(question["id"], alice["id"]),
            EntityChanged("agent", alice["id"], Action.UPDATED),
            AgentStatusChanged(alice["id"], AgentStatus.WAITING_FOR_INPUT),
        )
    ]
    published.clear()

    replied = api.mutation("message.reply", {"id": question["id"], "content": "Go."})
    assert published == [
        (
            UserQuestionReplied(question["id"], alice["id"]),
            EntityChanged("message", replied["reply"]["id"], Action.CREATED),
            EntityChanged("agent", alice["id"], Action.UPDATED),
            AgentStatusChanged(alice["id"], AgentStatus.RUNNING),
        )
    ]
    published.clear()

    as_bob.mutation("agent.update", {"id": "bob", "result": {"ok": True}})
    assert published == [(EntityChanged("agent", bob["id"], Action.UPDATED),)]


def test_deleting_an_agent_withdraws_every_pending_conversation_it_is_part_of(
    api: Api, published: list[tuple[Event, ...]]
) -> None:
    alice, as_alice = register(api, "alice")
    bob, as_bob = register(api, "bob")
    carol, _ = register(api, "carol")
    to_bob = as_alice.mutation(
        "conversation.ask", {"fromAgentId": alice["id"], "toAgentId": "bob", "question": "?"}
    )
    from_bob = as_bob.mutation(
        "conversation.ask", {"fromAgentId": bob["id"], "toAgentId": "carol", "question": "?"}
    )
    published.clear()

    api.mutation("agent.delete", {"id": "bob"})

    reason = f"agent bob ({bob['id']}) was deleted"
    assert published == [
        (
            QuestionWithdrawn(to_bob["id"], alice["id"], bob["id"], reason),
            QuestionWithdrawn(from_bob["id"], bob["id"], carol["id"], reason),
            EntityChanged("agent", bob["id"], Action.DELETED),
        )
    ]


def test_deleting_an_agent_ends_its_askers_and_its_listener_at_once(api: Api) -> None:
    alice, as_alice = register(api, "alice")
    bob, _ = register(api, "bob")
    asked = as_alice.mutation(
        "conversation.ask", {"fromAgentId": alice["id"], "toAgentId": "bob", "question": "??"}
    )
    carol, _ = register(api, "carol")  # listens, and is deleted while it does
    stream = api.app.services.changes

    async def scenario() -> tuple[httpx.Response, httpx.Response, float]:
        transport = httpx.ASGITransport(app=api.app.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            def long_poll(path: str, payload: dict[str, Any], token: str) -> Any:
                return asyncio.create_task(
                    client.get(
                        f"/trpc/{path}",
                        params={"input": json.dumps(payload)},
                        headers={"authorization": f"Bearer {token}"},
                    )
                )

            waiting = long_poll(
                "conversation.waitForAnswer",
                {"id": asked["id"], "timeoutMs": 60_000},
                alice["token"],
            )
            listening = long_poll(
                "conversation.listen", {"agentId": carol["id"], "timeoutMs": 60_000}, carol["token"]
            )
            async with asyncio.timeout(10):
                while (
                    stream.waiting(answer_key(asked["id"])) == 0
                    or stream.waiting(question_key(carol["id"])) == 0
                ):
                    await asyncio.sleep(0.005)
            started = asyncio.get_running_loop().time()
            for name in ("bob", "carol"):
                deleted = await client.post(
                    "/trpc/agent.delete",
                    json={"id": name},
                    headers={"authorization": f"Bearer {api.token}"},
                )
                assert deleted.status_code == 200
            woken = await asyncio.wait_for(waiting, 10)
            ended = await asyncio.wait_for(listening, 10)
            return woken, ended, asyncio.get_running_loop().time() - started

    woken, ended, took = asyncio.run(scenario())

    assert took < 10  # woken by the deletion, long before the 60 s timeout
    error = woken.json()["error"]
    assert error["data"]["code"] == "NOT_FOUND"
    assert error["message"] == (
        f"conversation '{asked['id']}' ended unanswered: agent bob ({bob['id']}) was deleted"
    )
    error = ended.json()["error"]
    assert (error["data"]["code"], error["message"]) == (
        "NOT_FOUND",
        f"agent '{carol['id']}' was deleted",
    )


def test_planning_and_document_writes_publish_their_entity_and_status_events(
    api: Api, published: list[tuple[Event, ...]]
) -> None:
    def only(path: str, payload: Any) -> tuple[Any, tuple[Event, ...]]:
        published.clear()
        result = api.mutation(path, payload)
        assert len(published) == 1, published  # one unit of work per procedure
        return result, published[0]

    initiative, events = only("initiative.create", {"name": "Auth"})
    assert events == (EntityChanged("initiative", initiative["id"], Action.CREATED),)
    phase, events = only("phase.create", {"initiativeId": initiative["id"], "name": "Build"})
    assert events == (EntityChanged("phase", phase["id"], Action.CREATED),)
    _, events = only("phase.update", {"id": phase["id"], "status": "in_progress"})
    assert events == (
        EntityChanged("phase", phase["id"], Action.UPDATED),
        PhaseStatusChanged(phase["id"], PhaseStatus.IN_PROGRESS),
    )
    _, events = only("phase.update", {"id": phase["id"], "name": "Build it"})
    assert events == (EntityChanged("phase", phase["id"], Action.UPDATED),)

    task, events = only("task.create", {"phaseId": phase["id"], "name": "Tokens"})
    assert (task["status"], events) == (
        "pending",
        (EntityChanged("task", task["id"], Action.CREATED),),
    )
    _, events = only("task.update", {"id": task["id"], "status": "in_progress"})
    assert events == (
        EntityChanged("task", task["id"], Action.UPDATED),
        TaskStatusChanged(task["id"], TaskStatus.IN_PROGRESS),
    )  # the phase is in progress already: no phase event
    _, events = only("task.update", {"id": task["id"], "status": "completed"})
    assert events == (
        EntityChanged("task", task["id"], Action.UPDATED),
        TaskStatusChanged(task["id"], TaskStatus.COMPLETED),
        EntityChanged("phase", phase["id"], Action.UPDATED),
        PhaseStatusChanged(phase["id"], PhaseStatus.COMPLETED),
        EntityChanged("initiative", initiative["id"], Action.UPDATED),
    )  # its only task completed: the phase and the initiative follow, in one unit of work
    other, _ = only("task.create", {"phaseId": phase["id"], "name": "Docs", "status": "pending"})
    dependency, events = only(
        "task.addDependency", {"taskId": other["id"], "dependsOnTaskId": task["id"]}
    )
    assert events == (EntityChanged("taskDependency", dependency["id"], Action.CREATED),)

    published.clear()
    cycle = api.fails(
        "mutation", "task.addDependency", {"taskId": task["id"], "dependsOnTaskId": other["id"]}
    )
    assert cycle.code == "BAD_REQUEST"
    assert published == []  # refused: rolled back, nothing to tell

    agent, as_agent = register(api, "alice")
    published.clear()
    chunk = as_agent.mutation("log.append", {"agentId": "alice", "content": "hello"})
    assert published == [(LogChunkAppended(agent["id"], chunk["id"]),)]

    page, events = only("page.create", {"initiativeId": initiative["id"], "title": "Notes"})
    assert events == (EntityChanged("page", page["id"], Action.CREATED),)
    _, events = only("task.delete", {"id": other["id"]})
    assert events == (
        EntityChanged("task", other["id"], Action.DELETED),
        EntityChanged("phase", phase["id"], Action.UPDATED),
        PhaseStatusChanged(phase["id"], PhaseStatus.COMPLETED),
        EntityChanged("initiative", initiative["id"], Action.UPDATED),
    )  # "Docs" had reopened the phase and the initiative; without it all is completed again


def test_a_delete_or_bulk_update_records_an_event_for_each_row(
    api: Api, published: list[tuple[Event, ...]]
) -> None:
    initiative = api.mutation("initiative.create", {"name": "Auth"})
    root = api.mutation("task.create", {"initiativeId": initiative["id"], "name": "Root"})
    child = api.mutation("task.create", {"parentTaskId": root["id"], "name": "Child"})
    grandchild = api.mutation("task.create", {"parentTaskId": child["id"], "name": "Grandchild"})
    kept = api.mutation("task.create", {"initiativeId": initiative["id"], "name": "Kept"})
    published.clear()

    api.mutation("task.delete", {"id": root["id"]})

    assert len(published) == 1
    assert published[0][0] == EntityChanged("task", root["id"], Action.DELETED)
    assert set(published[0]) == {
        EntityChanged("task", gone["id"], Action.DELETED) for gone in (root, child, grandchild)
    }
    assert api.query("task.get", {"id": kept["id"]})["id"] == kept["id"]

    agent, as_agent = register(api, "planner")
    proposals = [
        as_agent.mutation(
            "proposal.create",
            {
                "agentId": "planner",
                "initiativeId": initiative["id"],
                "targetType": "task",
                "title": title,
            },
        )
        for title in ("a", "b")
    ]
    published.clear()
    result = api.mutation(
        "proposal.updateManyByAgent",
        {"agentId": agent["id"], "status": "pending", "changes": {"status": "dismissed"}},
    )
    assert result["updated"] == 2
    assert published == [
        tuple(
            EntityChanged("proposal", p["id"], Action.UPDATED)
            for p in sorted(proposals, key=lambda p: str(p["id"]))
        )
    ]

    accounts = [api.mutation("account.create", {"email": f"{n}@example.com"}) for n in "xyz"]
    for account in accounts[:2]:
        api.mutation(
            "account.markExhausted", {"id": account["id"], "until": "2020-01-01T00:00:00.000Z"}
        )
    published.clear()
    assert api.mutation("account.clearExpired", {}) == {"cleared": 2}
    assert published == [
        tuple(
            EntityChanged("account", a["id"], Action.UPDATED)
            for a in sorted(accounts[:2], key=lambda a: str(a["id"]))
        )
    ]


def test_a_question_sent_with_message_create_is_an_open_question_of_its_sender(
    api: Api, published: list[tuple[Event, ...]]
) -> None:
    """``message.create`` to the person with ``requiresResponse`` is the same question
    ``cw ask --user`` asks: the sender waits for input with it in ``pendingQuestions``."""
    alice, as_alice = register(api, "alice")
    published.clear()

    question = as_alice.mutation(
        "message.create", {"content": "Deploy?", "type": "question", "requiresResponse": True}
    )

    assert published == [
        (
            EntityChanged("message", question["id"], Action.CREATED),
            UserQuestionAsked(question["id"], alice["id"]),
            EntityChanged("agent", alice["id"], Action.UPDATED),
            AgentStatusChanged(alice["id"], AgentStatus.WAITING_FOR_INPUT),
        )
    ]
    stored = api.query("agent.get", {"id": alice["id"]})
    assert stored["status"] == "waiting_for_input"
    assert [q["messageId"] for q in stored["pendingQuestions"]] == [question["id"]]

    api.mutation("message.reply", {"id": question["id"], "content": "Yes."})
    after = api.query("agent.get", {"id": alice["id"]})
    assert (after["status"], after["pendingQuestions"]) == ("running", None)
