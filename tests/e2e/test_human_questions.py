"""An agent asks the person and waits, through the real `cw` and the real server.

The agent registers with `cw agent register` and runs with the exports it printed; the
person uses the admin token (the server's data directory), as on one machine.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def register(server: ServerProcess, name: str, *flags: str) -> dict[str, Any]:
    """`cw agent register`, its exports parsed into ``{id, token, url}``."""
    done = server.cw("agent", "register", "--name", name, *flags)
    assert done.returncode == 0, done.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert exports["CW_URL"] == server.url
    return {"id": exports["CW_AGENT_ID"], "token": exports["CW_TOKEN"], "name": name}


def show(server: ServerProcess, agent: dict[str, Any]) -> dict[str, Any]:
    done = server.cw("agent", "show", agent["name"], "--json")
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    return shown


def wait_until_waiting(server: ServerProcess, agent: dict[str, Any], count: int = 1) -> Any:
    """Poll (test-side only) until the agent has ``count`` open questions to the user."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        shown = show(server, agent)
        if len(shown.get("pendingQuestions") or []) >= count:
            return shown
        time.sleep(0.05)
    raise AssertionError(f"{agent['name']} never waited for {count} question(s)")


def finish(process: subprocess.Popen[str], timeout: float = 30) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def test_a_question_to_the_user_and_the_reply_that_wakes_the_agent(
    server: ServerProcess, tmp_path: Path
) -> None:
    agent = register(server, "asker", "--worktree", str(tmp_path / "wt"), "--mode", "plan")
    asking = server.spawn_cw("ask", "--user", "Postgres or SQLite for the cache?", agent=agent)

    shown = wait_until_waiting(server, agent)
    assert shown["status"] == "waiting_for_input"
    [pending] = shown["pendingQuestions"]
    assert pending["text"] == "Postgres or SQLite for the cache?"
    message_id = pending["messageId"]
    human = server.cw("agent", "show", "asker")
    assert "waiting_for_input" in human.stdout
    assert message_id in human.stdout
    assert "Postgres or SQLite for the cache?" in human.stdout

    inbox = server.cw("inbox")
    assert inbox.returncode == 0, inbox.stderr
    [header, row, hint] = inbox.stdout.splitlines()
    assert header.split()[:3] == ["ID", "FROM", "AGE"]
    assert row.split()[:2] == [message_id, "asker"]
    assert "cw reply" in hint
    assert asking.poll() is None  # still waiting

    replied = server.cw("reply", message_id, "Postgres, with a 5-minute TTL.")
    assert replied.returncode == 0, replied.stderr
    assert message_id in replied.stdout

    code, out, err = finish(asking)
    assert (code, out.strip()) == (0, "Postgres, with a 5-minute TTL."), err
    after = show(server, agent)
    assert (after["status"], after["pendingQuestions"]) == ("running", None)
    thread = server.cw("message", "thread", message_id)
    assert thread.returncode == 0, thread.stderr
    lines = thread.stdout.splitlines()
    assert lines[0].startswith(f"{message_id}  question from agent {agent['id']} to user")
    assert "Postgres, with a 5-minute TTL." in thread.stdout
    assert lines[2].startswith("    ")  # the reply is indented under the question
    assert "response from user" in lines[2]
    assert server.cw("inbox").stdout.strip() == "nothing is waiting for you"


def test_the_inbox_lists_everyone_oldest_first_and_replies_come_from_stdin(
    server: ServerProcess,
) -> None:
    first = register(server, "first")
    second = register(server, "second")
    asked_first = server.cw("ask", "--user", "--no-wait", "one?", agent=first)
    asked_second = server.cw("ask", "--user", "--no-wait", "-", agent=second, input="two?\n")
    sent = server.cw("message", "send", "--to-user", "fyi: tests pass", agent=first)
    assert (asked_first.returncode, asked_second.returncode, sent.returncode) == (0, 0, 0)

    inbox = json.loads(server.cw("inbox", "--json").stdout)

    assert [(m["senderName"], m["content"]) for m in inbox] == [
        ("first", "one?"),
        ("second", "two?"),
        ("first", "fyi: tests pass"),
    ]
    assert inbox[0]["id"] == asked_first.stdout.strip()
    replied = server.cw("reply", inbox[1]["id"], "-", input="yes\n", timeout=30)
    assert replied.returncode == 0, replied.stderr
    waited = server.cw("message", "wait", inbox[1]["id"], "--json", agent=second)
    state = json.loads(waited.stdout)
    assert (state["question"]["status"], state["reply"]["content"]) == ("responded", "yes")
    assert show(server, first)["status"] == "waiting_for_input"
    assert show(server, second)["status"] == "running"


def test_a_timeout_exits_3_and_the_wait_resumes(server: ServerProcess) -> None:
    agent = register(server, "asker")

    timed_out = server.cw("ask", "--user", "--timeout", "1", "Deploy now?", agent=agent)

    assert timed_out.returncode == 3
    [pending] = show(server, agent)["pendingQuestions"]
    message_id = pending["messageId"]
    assert message_id in timed_out.stderr
    assert f"cw message wait {message_id}" in timed_out.stderr
    assert show(server, agent)["status"] == "waiting_for_input"  # still open
    again = server.cw("message", "wait", message_id, "--timeout", "0.5", agent=agent)
    assert again.returncode == 3
    resumed = server.spawn_cw("message", "wait", message_id, "--timeout", "60", agent=agent)
    time.sleep(0.3)  # let it park in the long poll (the reply would be found anyway)
    assert server.cw("reply", message_id, "Not yet.").returncode == 0
    code, out, err = finish(resumed)
    assert (code, out.strip()) == (0, "Not yet."), err


def test_a_server_restart_during_the_wait_loses_nothing(server: ServerProcess) -> None:
    agent = register(server, "asker")
    asking = server.spawn_cw("ask", "--user", "--timeout", "60", "Survive?", agent=agent)
    [pending] = wait_until_waiting(server, agent)["pendingQuestions"]
    time.sleep(0.2)  # `cw ask` is parked in waitForReply

    assert server.stop() == 0, server.log()
    time.sleep(0.5)
    server.start()
    assert server.cw("reply", pending["messageId"], "Survived.").returncode == 0

    code, out, err = finish(asking)
    assert (code, out.strip()) == (0, "Survived."), err


def test_interrupting_the_wait_leaves_the_question_pending(server: ServerProcess) -> None:
    agent = register(server, "asker")
    asking = server.spawn_cw("ask", "--user", "Interrupt me?", agent=agent)
    [pending] = wait_until_waiting(server, agent)["pendingQuestions"]
    time.sleep(0.2)

    asking.send_signal(signal.SIGINT)
    code, _, err = finish(asking)

    assert code == 130
    assert f"cw message wait {pending['messageId']}" in err
    assert [m["id"] for m in json.loads(server.cw("inbox", "--json").stdout)] == [
        pending["messageId"]
    ]


def test_only_the_person_replies_and_only_the_asker_waits(server: ServerProcess) -> None:
    asker = register(server, "asker")
    other = register(server, "other")
    message_id = server.cw("ask", "--user", "--no-wait", "Mine?", agent=asker).stdout.strip()

    by_agent = server.cw("reply", message_id, "I decide", agent=asker)
    snooping = server.cw("message", "wait", message_id, "--timeout", "1", agent=other)
    inbox_as_agent = server.cw("inbox", agent=other)
    no_identity = server.cw("ask", "--user", "who am I?")

    assert by_agent.returncode == 1 and "administrator" in by_agent.stderr
    assert snooping.returncode == 1 and "not part of" in snooping.stderr
    assert inbox_as_agent.returncode == 1
    assert no_identity.returncode == 2 and "CW_AGENT_ID" in no_identity.stderr
    assert show(server, asker)["pendingQuestions"][0]["messageId"] == message_id
