"""``agent.checkIn`` over the tRPC wire: what the hooks see, the status they move, who may
check in, and answers to ``--no-wait`` questions handed out exactly once."""

from __future__ import annotations

from typing import Any

from tests.integration.procedures.planning_api import Api


def register(api: Api, **fields: Any) -> tuple[dict[str, Any], Api]:
    agent = api.mutation("agent.create", fields)
    return agent, api.as_token(agent["token"])


def test_questions_name_the_asker_and_its_task(api: Api) -> None:
    task = api.mutation("task.create", {"name": "Token service"})
    asker, as_asker = register(api, name="alice", taskId=task["id"])
    me, as_me = register(api, name="bob")
    asked = as_asker.mutation(
        "conversation.ask", {"fromAgentId": asker["id"], "toAgentId": "bob", "question": "port?"}
    )

    found = as_me.mutation("agent.checkIn", {"agentId": me["id"], "withTask": True})

    assert found["agent"]["name"] == "bob"
    assert found["task"] is None
    assert found["answers"] == []
    [question] = found["questions"]
    assert (question["id"], question["question"], question["fromAgentName"]) == (
        asked["id"],
        "port?",
        "alice",
    )
    assert (question["fromTaskId"], question["fromTaskName"]) == (task["id"], "Token service")
    assert "tokenHash" not in str(found)


def test_with_task_describes_the_agents_own_task(api: Api) -> None:
    task = api.mutation("task.create", {"name": "Cache", "description": "an LRU in front"})
    me, as_me = register(api, taskId=task["id"])
    found = as_me.mutation("agent.checkIn", {"agentId": me["id"], "withTask": True})
    assert found["task"] == {"id": task["id"], "name": "Cache", "description": "an LRU in front"}
    assert as_me.mutation("agent.checkIn", {"agentId": me["id"]})["task"] is None


def test_an_agent_checks_in_only_as_itself(api: Api) -> None:
    me, as_me = register(api)
    other, _ = register(api)
    error = as_me.fails("mutation", "agent.checkIn", {"agentId": other["id"]})
    assert error.code == "FORBIDDEN"
    assert api.fails("mutation", "agent.checkIn", {"agentId": "ghost"}).code == "NOT_FOUND"
    bad = as_me.fails("mutation", "agent.checkIn", {"agentId": me["id"], "activity": "dance"})
    assert bad.code == "BAD_REQUEST"


def _status(api: Api, agent_id: str) -> str:
    status: str = api.query("agent.get", {"id": agent_id})["status"]
    return status


def test_tool_and_prompt_mean_running_stop_means_idle_unless_asked(api: Api) -> None:
    me, as_me = register(api, name="bob")
    asker, as_asker = register(api)

    def check_in(activity: str) -> dict[str, Any]:
        result: dict[str, Any] = as_me.mutation(
            "agent.checkIn", {"agentId": me["id"], "activity": activity}
        )
        return result

    assert check_in("session_start")["agent"]["status"] == "idle"
    assert check_in("tool")["agent"]["status"] == "running"
    assert check_in("stop")["agent"]["status"] == "idle"
    assert check_in("prompt")["agent"]["status"] == "running"
    asked = as_asker.mutation(
        "conversation.ask", {"fromAgentId": asker["id"], "toAgentId": "bob", "question": "q"}
    )
    assert check_in("stop")["agent"]["status"] == "running"  # kept going: a question waits
    as_me.mutation("conversation.answer", {"id": asked["id"], "answer": "a"})
    assert check_in("stop")["agent"]["status"] == "idle"
    assert _status(api, me["id"]) == "idle"


def test_status_the_hooks_do_not_own_is_left_alone(api: Api) -> None:
    supervised, as_supervised = register(api, status="running")
    # As the runner records a process it started (processStartedAt is the runner's alone).
    api.app.services.repos.agents.update(
        supervised["id"], {"pid": 4242, "process_started_at": 123456}
    )
    by_hand, as_by_hand = register(api, status="running")
    api.mutation("agent.update", {"id": by_hand["id"], "pid": 4243})  # not the runner's
    stopped, as_stopped = register(api)
    api.mutation("agent.update", {"id": stopped["id"], "status": "stopped"})

    as_supervised.mutation("agent.checkIn", {"agentId": supervised["id"], "activity": "stop"})
    as_stopped.mutation("agent.checkIn", {"agentId": stopped["id"], "activity": "tool"})

    assert _status(api, supervised["id"]) == "running"  # the runner's to change
    as_by_hand.mutation("agent.checkIn", {"agentId": by_hand["id"], "activity": "stop"})
    assert _status(api, by_hand["id"]) == "idle"  # a pid alone does not make it the runner's
    assert _status(api, stopped["id"]) == "stopped"
    api.mutation("agent.update", {"id": supervised["id"], "exitCode": 0, "status": "idle"})
    as_supervised.mutation("agent.checkIn", {"agentId": supervised["id"], "activity": "tool"})
    assert _status(api, supervised["id"]) == "running"  # the process ended: hooks again


def test_no_wait_answers_are_delivered_once_and_only_to_the_asker(api: Api) -> None:
    me, as_me = register(api, name="asker")
    helper, as_helper = register(api, name="helper")
    waited = as_me.mutation(
        "conversation.ask", {"fromAgentId": me["id"], "toAgentId": "helper", "question": "w?"}
    )
    no_wait = {"fromAgentId": me["id"], "toAgentId": "helper", "question": "nw?"}
    asked = as_me.mutation("conversation.ask", {**no_wait, "id": "c" * 21, "deliverAnswer": True})
    again = as_me.mutation("conversation.ask", {**no_wait, "id": "c" * 21, "deliverAnswer": True})
    assert again["id"] == asked["id"]  # an idempotent retry records nothing twice

    take = {"agentId": me["id"], "takeAnswers": True}
    assert as_me.mutation("agent.checkIn", take)["answers"] == []  # not answered yet
    as_helper.mutation("conversation.answer", {"id": waited["id"], "answer": "waited"})
    as_helper.mutation("conversation.answer", {"id": asked["id"], "answer": "42"})
    assert (
        as_helper.mutation("agent.checkIn", {"agentId": helper["id"], "takeAnswers": True})[
            "answers"
        ]
        == []
    )
    assert as_me.mutation("agent.checkIn", {"agentId": me["id"]})["answers"] == []  # not taken

    [answer] = as_me.mutation("agent.checkIn", take)["answers"]

    assert (answer["id"], answer["answer"], answer["toAgentName"]) == (asked["id"], "42", "helper")
    assert as_me.mutation("agent.checkIn", take)["answers"] == []
