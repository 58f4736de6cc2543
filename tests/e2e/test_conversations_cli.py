"""Agents ask and answer each other through the real `cw` and the real server.

Every test runs the server as a subprocess (`cw serve`) and each agent as its own
`cw` process with its own token, as agents in separate worktrees would.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def setup_pair(server: ServerProcess) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An initiative, a phase with two tasks, and two running agents on them."""
    initiative = server.call("mutation", "initiative.create", {"name": "Auth rewrite"})
    phase = server.call(
        "mutation", "phase.create", {"initiativeId": initiative["id"], "name": "Backend"}
    )
    ids = {"initiative": initiative["id"], "phase": phase["id"]}
    for key in ("alice_task", "bob_task"):
        task = server.call("mutation", "task.create", {"name": key, "phaseId": phase["id"]})
        ids[key] = task["id"]
    alice = server.create_agent(name="alice", taskId=ids["alice_task"], status="running")
    bob = server.create_agent(name="bob", taskId=ids["bob_task"], status="running")
    return alice, bob, ids


def wait_for_pending(server: ServerProcess, agent: dict[str, Any], count: int = 1) -> list[Any]:
    """Poll (test-side only) until the agent has ``count`` pending questions."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        pending: list[Any] = server.call("query", "conversation.pending", {"agentId": agent["id"]})
        if len(pending) >= count:
            return pending
        time.sleep(0.05)
    raise AssertionError(f"{agent['name']} never got {count} pending question(s)")


def finish(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


@pytest.mark.parametrize("target", ["agent", "task", "phase"])
def test_ask_listen_answer_by_each_kind_of_target(server: ServerProcess, target: str) -> None:
    alice, bob, ids = setup_pair(server)
    flag = {"agent": ["--agent", "bob"], "task": ["--task", ids["bob_task"]]}.get(
        target, ["--phase", ids["phase"]]
    )
    asking = server.spawn_cw("ask", *flag, "which port does auth use?", agent=alice)

    listened = server.cw("listen", "--timeout", "20", "--json", agent=bob)
    assert listened.returncode == 0, listened.stderr
    [question] = json.loads(listened.stdout)
    assert question["question"] == "which port does auth use?"
    assert (question["fromAgentId"], question["toAgentId"]) == (alice["id"], bob["id"])
    assert (question["fromAgentName"], question["toAgentName"]) == ("alice", "bob")
    assert question["taskId"] == ids["bob_task"]
    assert question["phaseId"] == ids["phase"]
    assert question["initiativeId"] == ids["initiative"]

    answered = server.cw("answer", question["id"], "8443", agent=bob)
    assert answered.returncode == 0, answered.stderr

    code, out, err = finish(asking)
    assert code == 0, err
    assert out.strip() == "8443"


def test_listen_prints_who_asks_and_how_to_answer(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    asked = server.cw("ask", "--agent", "bob", "--no-wait", "--json", "ready?", agent=alice)
    conversation = json.loads(asked.stdout)
    listened = server.cw("listen", "--timeout", "5", agent=bob)
    assert listened.returncode == 0
    assert conversation["id"] in listened.stdout
    assert f"from agent alice ({alice['id']})" in listened.stdout
    assert "ready?" in listened.stdout
    assert "cw answer" in listened.stdout


def test_question_from_stdin_and_answer_from_stdin(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    question = "multi\nline question"
    asked = server.cw("ask", "--agent", "bob", "--no-wait", "-", agent=alice, input=question)
    assert asked.returncode == 0, asked.stderr
    cid = asked.stdout.strip()
    answered = server.cw("answer", cid, "-", agent=bob, input="an answer\n")
    assert answered.returncode == 0, answered.stderr
    got = json.loads(server.cw("conversation", "get", cid, "--json", agent=alice).stdout)
    assert (got["question"], got["answer"], got["status"]) == (question, "an answer", "answered")


def test_no_wait_then_resume_with_cw_wait(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    asked = server.cw("ask", "--agent", "bob", "--no-wait", "deploy now?", agent=alice)
    cid = asked.stdout.strip()
    waiting = server.spawn_cw("wait", cid, "--timeout", "30", agent=alice)
    wait_for_pending(server, bob)
    assert server.cw("answer", cid, "yes", agent=bob).returncode == 0
    code, out, err = finish(waiting)
    assert (code, out.strip()) == (0, "yes"), err


def test_timeout_exits_3_with_the_id_and_wait_resumes(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    timed_out = server.cw("ask", "--agent", "bob", "--timeout", "0.5", "still there?", agent=alice)
    assert timed_out.returncode == 3
    [cid] = [c["id"] for c in wait_for_pending(server, bob)]
    assert cid in timed_out.stderr
    assert f"cw wait {cid}" in timed_out.stderr or f"cw wait -- {cid}" in timed_out.stderr
    assert server.cw("answer", cid, "yes", agent=bob).returncode == 0
    resumed = server.cw("wait", cid, "--timeout", "5", agent=alice)
    assert (resumed.returncode, resumed.stdout.strip()) == (0, "yes")


def test_interrupting_ask_leaves_the_question_pending(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    asking = server.spawn_cw("ask", "--agent", "bob", "interrupt me", agent=alice)
    [pending] = wait_for_pending(server, bob)
    time.sleep(0.2)  # let `cw ask` park in waitForAnswer
    asking.send_signal(signal.SIGINT)
    code, _, err = finish(asking)
    assert code == 130
    assert pending["id"] in err
    assert "cw wait" in err
    assert "Traceback" not in err
    still = server.call("query", "conversation.get", {"id": pending["id"]})
    assert still["status"] == "pending"


def test_two_racing_answers_exactly_one_wins(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    cid = server.cw("ask", "--agent", "bob", "--no-wait", "race?", agent=alice).stdout.strip()
    racers = [server.spawn_cw("answer", cid, f"answer {i}", agent=bob) for i in range(2)]
    results = [finish(racer) for racer in racers]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1]
    loser_err = next(err for code, _, err in results if code == 1)
    assert f"conversation '{cid}' is already answered" in loser_err
    stored = server.call("query", "conversation.get", {"id": cid})
    winner = next(i for i, (code, _, _) in enumerate(results) if code == 0)
    assert stored["answer"] == f"answer {winner}"


def test_server_restart_during_a_wait_loses_nothing(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    asking = server.spawn_cw("ask", "--agent", "bob", "--timeout", "60", "survive?", agent=alice)
    [pending] = wait_for_pending(server, bob)
    time.sleep(0.2)  # `cw ask` is parked in waitForAnswer
    assert server.stop() == 0, server.log()  # SIGTERM: a clean shutdown, exit 0
    time.sleep(0.5)
    server.start()
    assert server.cw("answer", pending["id"], "survived", agent=bob).returncode == 0
    code, out, err = finish(asking)
    assert (code, out.strip()) == (0, "survived"), err


def test_listen_waits_across_a_server_restart(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    listening = server.spawn_cw("listen", "--timeout", "60", "--json", agent=bob)
    time.sleep(0.5)
    assert server.stop() == 0
    server.start()
    asked = server.cw("ask", "--agent", "bob", "--no-wait", "after restart?", agent=alice)
    code, out, err = finish(listening)
    assert code == 0, err
    assert [c["id"] for c in json.loads(out)] == [asked.stdout.strip()]


def test_unauthorized_and_forbidden(server: ServerProcess) -> None:
    alice, bob, _ = setup_pair(server)
    bogus = server.cw(
        "listen", "--timeout", "1", env={"CW_TOKEN": "cw_bogus", "CW_AGENT_ID": bob["id"]}
    )
    assert bogus.returncode == 1
    assert "not valid" in bogus.stderr
    # bob's token, claiming to be alice
    forbidden = server.cw(
        "ask", "--agent", "bob", "--no-wait", "spoof",
        env={"CW_TOKEN": bob["token"], "CW_AGENT_ID": alice["id"]},
    )  # fmt: skip
    assert forbidden.returncode == 1
    assert "cannot act as" in forbidden.stderr
    cid = server.cw("ask", "--agent", "bob", "--no-wait", "mine", agent=alice).stdout.strip()
    carol = server.create_agent(name="carol")
    snooping = server.cw("conversation", "get", cid, agent=carol)
    assert snooping.returncode == 1
    assert "not part of" in snooping.stderr
    answering = server.cw("answer", cid, "not yours", agent=alice)
    assert answering.returncode == 1
    assert "addressed to agent" in answering.stderr
    assert server.call("query", "conversation.get", {"id": cid})["status"] == "pending"


def test_refusals_are_clear_and_lose_nothing(server: ServerProcess) -> None:
    alice, _bob, ids = setup_pair(server)
    stopped = server.create_agent(name="sleepy", status="stopped")
    cases = {
        ("--agent", "ghost"): "agent 'ghost' not found",
        ("--agent", "alice"): "cannot ask itself",
        ("--agent", "sleepy"): "is stopped",
        ("--task", "no-such-task"): "no task has the id or the name 'no-such-task'",
    }
    for flag, message in cases.items():
        result = server.cw("ask", *flag, "--no-wait", "hello?", agent=alice)
        assert result.returncode == 1, (flag, result.stderr)
        assert message in result.stderr, (flag, result.stderr)
        assert "Traceback" not in result.stderr
    # two other agents on the phase: the asker is told whom to pick
    server.create_agent(name="dave", taskId=ids["alice_task"], status="idle")
    several = server.cw("ask", "--phase", ids["phase"], "--no-wait", "anyone?", agent=alice)
    assert several.returncode == 1
    assert "bob" in several.stderr and "dave" in several.stderr
    assert server.call("query", "conversation.list", {})["items"] == []
    assert stopped["status"] == "stopped"


def test_oversized_and_empty_questions_are_refused(server: ServerProcess) -> None:
    alice, _bob, _ = setup_pair(server)
    huge = "x" * 100_001
    result = server.cw("ask", "--agent", "bob", "--no-wait", "-", agent=alice, input=huge)
    assert result.returncode == 1
    assert "question" in result.stderr and "100000" in result.stderr
    empty = server.cw("ask", "--agent", "bob", "--no-wait", "-", agent=alice, input="  \n")
    assert empty.returncode == 2
    assert server.call("query", "conversation.list", {})["items"] == []


def test_malformed_and_oversized_requests_get_wire_errors(server: ServerProcess) -> None:
    import urllib.error
    import urllib.request

    def post(body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
        request = urllib.request.Request(
            f"{server.url}/conversation.ask",
            data=body,
            headers={
                "authorization": f"Bearer {server.admin_token}",
                "content-type": content_type,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = post(b"{not json")
    assert (status, body["error"]["data"]["code"]) == (400, "BAD_REQUEST")
    status, body = post(b'{"fromAgentId": "a", "question": "q", "toAgentId": "b", "bogus": 1}')
    assert status == 400
    assert "bogus" in body["error"]["message"]
    status, body = post_raw(server, b'{"question": "' + b"x" * (1 << 20) + b'"}')
    assert (status, body["error"]["data"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    status, body = post(b"{}", content_type="text/plain")
    assert status == 415
    assert "stack" not in json.dumps(body)


def post_raw(server: ServerProcess, body: bytes) -> tuple[int, Any]:
    """POST over a bare socket: the server may answer 413 and close before the whole
    body is sent, which urllib reports as a broken pipe instead of the response."""
    import socket

    head = (
        f"POST /trpc/conversation.ask HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"authorization: Bearer {server.admin_token}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        # The server may refuse early; its response is then already buffered.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


def test_unreachable_server_exits_4(server: ServerProcess) -> None:
    alice, _, _ = setup_pair(server)
    dead = server.cw(
        "ask", "--agent", "bob", "hello?", agent=alice,
        env={"CW_URL": "http://127.0.0.1:9/trpc"},
    )  # fmt: skip
    assert dead.returncode == 4
    assert "cannot reach" in dead.stderr


def test_conversation_list_filters_and_pages(server: ServerProcess) -> None:
    alice, _bob, ids = setup_pair(server)
    for i in range(3):
        server.cw("ask", "--agent", "bob", "--no-wait", f"q{i}", agent=alice)
    first = json.loads(
        server.cw("conversation", "list", "--limit", "2", "--json", agent=alice).stdout
    )
    assert len(first["items"]) == 2 and first["nextCursor"]
    rest = json.loads(
        server.cw(
            "conversation", "list", "--limit", "2", f"--cursor={first['nextCursor']}", "--json",
            agent=alice,
        ).stdout
    )  # fmt: skip
    questions = {c["question"] for c in first["items"] + rest["items"]}
    assert questions == {"q0", "q1", "q2"}
    by_task = json.loads(
        server.cw("conversation", "list", "--task", ids["bob_task"], "--json").stdout
    )
    assert len(by_task["items"]) == 3
    human = server.cw("conversation", "list", agent=alice)
    assert human.returncode == 0 and "q2" in human.stdout


def test_the_person_asks_an_agent_and_waits_for_its_answer(server: ServerProcess) -> None:
    """`cw ask --agent` with the admin token and no agent identity asks as the person;
    the agent hears who asks, answers, and the person's `cw ask` prints the answer."""
    _, bob, ids = setup_pair(server)
    asking = server.spawn_cw("ask", "--task", ids["bob_task"], "what did you change?")

    listened = server.cw("listen", "--timeout", "20", agent=bob)
    assert listened.returncode == 0, listened.stderr
    assert "from the person" in listened.stdout
    [question] = wait_for_pending(server, bob)
    assert question["fromAgentId"] is None
    answered = server.cw("answer", question["id"], "the token schema", agent=bob)
    assert answered.returncode == 0, answered.stderr
    assert "asked by the person" in answered.stdout

    code, out, err = finish(asking)
    assert (code, out) == (0, "the token schema\n"), err
