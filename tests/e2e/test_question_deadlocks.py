"""Questions never hang forever: wait cycles are refused, and questions to an agent
that stops or crashes end their askers' waits. Real server, real `cw` processes."""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def agents(server: ServerProcess, *names: str) -> list[dict[str, Any]]:
    initiative = server.call("mutation", "initiative.create", {"name": "Deadlocks"})
    phase = server.call(
        "mutation", "phase.create", {"initiativeId": initiative["id"], "name": "Build"}
    )
    made = []
    for name in names:
        task = server.call("mutation", "task.create", {"name": name, "phaseId": phase["id"]})
        made.append(server.create_agent(name=name, taskId=task["id"], status="running"))
    return made


def wait_until_waiting(server: ServerProcess, asked: dict[str, Any], count: int = 1) -> None:
    """Poll (test side only) until ``asked`` has ``count`` pending questions."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if len(server.call("query", "conversation.pending", {"agentId": asked["id"]})) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{asked['name']} never got a question")


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_a_three_agent_wait_cycle_is_refused_with_the_cycle_shown(server: ServerProcess) -> None:
    alice, bob, carol = agents(server, "alice", "bob", "carol")
    a_asks_b = server.spawn_cw("ask", "--agent", "bob", "is the schema ready?", agent=alice)
    wait_until_waiting(server, bob)
    b_asks_c = server.spawn_cw("ask", "--agent", "carol", "which table?", agent=bob)
    wait_until_waiting(server, carol)
    [ab] = server.call("query", "conversation.pending", {"agentId": bob["id"]})
    [bc] = server.call("query", "conversation.pending", {"agentId": carol["id"]})

    refused = server.cw("ask", "--agent", "alice", "what does the login need?", agent=carol)

    assert refused.returncode == 1, refused.stderr
    message = refused.stderr
    assert "would close a wait cycle" in message
    assert f"carol ({carol['id']}) -> alice ({alice['id']}) (this question)" in message
    assert f"alice ({alice['id']}) -> bob ({bob['id']}) (conversation {ab['id']})" in message
    assert f"bob ({bob['id']}) -> carol ({carol['id']}) (conversation {bc['id']})" in message
    assert f"cw answer {bc['id']}" in message and "cw ask --user" in message
    assert server.call("query", "conversation.pending", {"agentId": alice["id"]}) == []

    # carol breaks the cycle the way the message says; the chain unwinds.
    assert server.cw("answer", bc["id"], "users", agent=carol).returncode == 0
    assert finish(b_asks_c)[:2] == (0, "users\n")
    assert server.cw("answer", ab["id"], "yes", agent=bob).returncode == 0
    assert finish(a_asks_b)[:2] == (0, "yes\n")


@pytest.mark.parametrize("status", ["crashed", "stopped"])
def test_a_question_to_an_agent_that_stops_or_crashes_ends_the_wait(
    server: ServerProcess, status: str
) -> None:
    alice, bob = agents(server, "alice", "bob")
    asking = server.spawn_cw("ask", "--agent", "bob", "which port?", agent=alice)
    wait_until_waiting(server, bob)
    [question] = server.call("query", "conversation.pending", {"agentId": bob["id"]})

    server.call("mutation", "agent.update", {"id": bob["id"], "status": status})

    code, out, err = finish(asking)
    assert code == 1, err
    assert out == ""
    assert f"conversation {question['id']} will not be answered" in err
    assert f"agent bob ({bob['id']}) is {status} and will not answer" in err
    assert "cw ask --user" in err
    stored = server.call("query", "conversation.get", {"id": question["id"]})
    assert stored["status"] == "abandoned"
    # `cw wait` on it later says the same instead of waiting
    again = server.cw("wait", question["id"], agent=alice)
    assert again.returncode == 1 and "will not be answered" in again.stderr
