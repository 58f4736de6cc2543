"""Agents, accounts, proposals, messages and logs, round trip through the real `cw`
against the real server: create, list, show, update, delete and the domain verbs, as
text for people and as JSON; and account secrets never in any output."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

CREDENTIALS_SECRET = "sk-ant-oat01-E2E-CREDENTIAL-SECRET"
CONFIG_SECRET = "E2E-CONFIG-SECRET-userID"
ROTATED_SECRET = "sk-ant-oat01-E2E-ROTATED-SECRET"


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}"
    return done


def as_json(done: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(done).stdout)


def register(server: ServerProcess, *flags: str) -> dict[str, Any]:
    """`cw agent register`; the exports it printed, as the env of that agent's shell."""
    done = ok(server.cw("agent", "register", *flags))
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    assert set(exports) == {"CW_AGENT_ID", "CW_TOKEN", "CW_URL"}
    assert "shown only this once" in done.stderr
    return {"id": exports["CW_AGENT_ID"], "token": exports["CW_TOKEN"], "env": exports}


def test_agents_register_and_round_trip(server: ServerProcess, tmp_path: Path) -> None:
    initiative = server.call("mutation", "initiative.create", {"name": "Cache"})
    task = server.call(
        "mutation", "task.create", {"name": "Build", "initiativeId": initiative["id"]}
    )
    worker = register(
        server, "--name", "worker", "--task", task["id"], "--worktree", str(tmp_path / "wt")
    )
    helper = register(server)  # a fresh adjective-animal name

    # The printed exports are all an agent's shell needs: `cw agent show` shows "me".
    me = as_json(server.cw("agent", "show", "--json", env=worker["env"]))
    assert (me["id"], me["name"], me["taskId"]) == (worker["id"], "worker", task["id"])
    assert (me["initiativeId"], me["worktreeId"]) == (initiative["id"], str(tmp_path / "wt"))
    assert "token" not in me and "tokenHash" not in me
    ok(server.cw("agent", "update", "--status", "running", env=worker["env"]))
    refused = server.cw("agent", "update", "--name", "boss", env=worker["env"])
    assert refused.returncode == 1 and "only the administrator" in refused.stderr
    refused = server.cw("agent", "update", "--pid", "4242", env=worker["env"])
    assert refused.returncode == 1 and "may not set pid" in refused.stderr
    ok(server.cw("agent", "update", "worker", "--pid", "4242"))  # the administrator may

    listed = ok(server.cw("agent", "list")).stdout.splitlines()
    header = ["ID", "NAME", "STATUS", "MODE", "TASK", "PROVIDER", "SERVER", "UPDATED"]
    assert listed[0].split() == header
    assert any(line.split()[:3] == [worker["id"], "worker", "running"] for line in listed)
    running = as_json(server.cw("agent", "list", "--status", "running", "--json"))
    assert [a["name"] for a in running["items"]] == ["worker"]
    shown = ok(server.cw("agent", "show", "worker")).stdout
    assert "status:      running" in shown and "pid:         4242" in shown

    updated = ok(
        server.cw(
            "agent", "update", "worker", "--task", "", "--mode", "plan", "--result", '{"ok":1}'
        )
    )
    assert "updated agent worker" in updated.stdout
    after = as_json(server.cw("agent", "show", worker["id"], "--json"))
    assert (after["taskId"], after["mode"], after["result"]) == (None, "plan", {"ok": 1})

    rotated = register_rotation(server, "worker")
    assert server.cw("agent", "show", env=worker["env"]).returncode == 1  # old token revoked
    assert ok(server.cw("agent", "show", env=rotated)).stdout.startswith("id:")

    helper_name = as_json(server.cw("agent", "show", helper["id"], "--json"))["name"]
    deleted = ok(server.cw("agent", "delete", helper_name))
    assert deleted.stdout.strip() == f"deleted agent {helper['id']} ({helper_name})"
    gone = server.cw("agent", "show", helper["id"])
    assert gone.returncode == 1 and f"agent '{helper['id']}' not found" in gone.stderr


def register_rotation(server: ServerProcess, name: str) -> dict[str, str]:
    done = ok(server.cw("agent", "rotate-token", name))
    return dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())


def test_accounts_round_trip_and_secrets_never_show(server: ServerProcess, tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"accessToken": CREDENTIALS_SECRET}))
    outputs: list[subprocess.CompletedProcess[str]] = []

    def cw(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = server.cw(*args, input=input)
        outputs.append(done)
        return done

    created = as_json(
        cw("account", "create", "dev@example.com", "--credentials-file", str(credentials), "--json")
    )
    config = json.dumps({"userID": CONFIG_SECRET})
    second = ok(
        cw(
            "account",
            "create",
            "ops@example.com",
            "--config-file",
            "-",
            "--sort-order",
            "1",
            input=config,
        )
    )
    assert second.stdout.startswith("created account ")
    assert (created["hasCredentials"], created["hasConfig"]) == (True, False)
    table = ok(cw("account", "list")).stdout.splitlines()
    assert table[0].split()[:3] == ["ID", "EMAIL", "PROVIDER"]
    assert len(table) == 3
    ok(cw("account", "list", "--json"))
    assert re.search(r"^credentials:\s+yes$", ok(cw("account", "show", created["id"])).stdout, re.M)
    ok(cw("account", "show", created["id"], "--json"))

    first_pick = ok(cw("account", "next")).stdout
    second_pick = as_json(cw("account", "next", "--json"))
    assert created["id"] in first_pick and second_pick["email"] == "ops@example.com"
    exhausted = ok(cw("account", "exhaust", created["id"], "--for", "5h"))
    assert "exhausted until" in exhausted.stdout
    ok(cw("account", "exhaust", second_pick["id"], "--until", "2020-01-01T00:00:00Z"))
    assert "1 account(s) available again" in ok(cw("account", "clear-expired")).stdout
    assert as_json(cw("account", "next", "--json"))["id"] == second_pick["id"]
    ok(cw("account", "exhaust", second_pick["id"], "--for", "1d", "--json"))
    none_left = cw("account", "next")
    assert none_left.returncode == 1 and "no claude account is available" in none_left.stderr

    (tmp_path / "new.json").write_text(ROTATED_SECRET)
    ok(cw("account", "update", created["id"], "--credentials-file", str(tmp_path / "new.json")))
    cleared = as_json(
        cw("account", "update", second_pick["id"], "--clear-config", "--available", "--json")
    )
    assert (cleared["hasConfig"], cleared["isExhausted"]) == (False, False)
    deleted = ok(cw("account", "delete", created["id"]))
    assert deleted.stdout.strip() == f"deleted account {created['id']} (dev@example.com)"
    ok(cw("account", "delete", second_pick["id"], "--json"))
    assert ok(cw("account", "list")).stdout.strip() == "no accounts"

    for done in outputs:
        for secret in (CREDENTIALS_SECRET, CONFIG_SECRET, ROTATED_SECRET):
            assert secret not in done.stdout and secret not in done.stderr, done.args


def test_proposals_round_trip(server: ServerProcess) -> None:
    initiative = server.call("mutation", "initiative.create", {"name": "Cache"})
    planner = register(server, "--name", "planner")
    base = ("proposal", "create", "--initiative", initiative["id"], "--target-type", "task")

    created = ok(
        server.cw(
            *base, "--title", "Add retries", "--content", "-", env=planner["env"], input="## Plan\n"
        )
    )
    assert created.stdout.startswith("created proposal ") and "pending" in created.stdout
    second = as_json(
        server.cw(
            *base, "--title", "Add metrics", "--metadata", '{"p": 1}', "--json", env=planner["env"]
        )
    )
    listed = ok(server.cw("proposal", "list", "--agent", "planner")).stdout.splitlines()
    assert listed[0].split()[:2] == ["ID", "STATUS"] and len(listed) == 3
    first_id = listed[1].split()[0]
    shown = ok(server.cw("proposal", "show", first_id)).stdout
    assert "title:       Add retries" in shown and "## Plan" in shown

    revised = ok(
        server.cw("proposal", "update", first_id, "--summary", "retry 3x", env=planner["env"])
    )
    assert "updated proposal" in revised.stdout
    accepted = ok(server.cw("proposal", "accept", first_id))
    assert accepted.stdout.strip().endswith("accepted")
    twice = server.cw("proposal", "dismiss", first_id)
    assert twice.returncode == 1 and "already accepted" in twice.stderr
    bulk = ok(server.cw("proposal", "dismiss", "--agent", "planner"))
    assert bulk.stdout.strip() == "dismissed 1 pending proposal(s) of agent planner"
    assert as_json(server.cw("proposal", "show", second["id"], "--json"))["status"] == "dismissed"
    pending = as_json(server.cw("proposal", "list", "--status", "pending", "--json"))
    assert pending == {"items": [], "nextCursor": None}

    deleted = ok(server.cw("proposal", "delete", first_id, env=planner["env"]))
    assert deleted.stdout.strip() == f"deleted proposal {first_id} (Add retries)"
    assert server.cw("proposal", "show", first_id).returncode == 1


def test_messages_round_trip(server: ServerProcess) -> None:
    alice = register(server, "--name", "alice")
    register(server, "--name", "bob")

    sent = ok(
        server.cw(
            "message", "send", "--to", "bob", "--type", "question", "Review?", env=alice["env"]
        )
    )
    message_id = sent.stdout.split()[2]
    reply = as_json(
        server.cw(
            "message",
            "send",
            "--to",
            "alice",
            "--reply-to",
            message_id,
            "-",
            "--json",
            input="Done.\n",
        )
    )
    assert (reply["senderType"], reply["parentMessageId"]) == ("user", message_id)

    listed = ok(server.cw("message", "list", "--from", "alice")).stdout.splitlines()
    assert listed[0].split()[:4] == ["ID", "TYPE", "STATUS", "FROM"]
    assert listed[1].split()[0] == message_id
    mine = as_json(server.cw("message", "list", "--json", env=alice["env"]))  # sent to alice
    assert [m["id"] for m in mine["items"]] == [reply["id"]]
    shown = ok(server.cw("message", "show", message_id)).stdout
    assert f"from:        agent {alice['id']}" in shown and "Review?" in shown
    thread = ok(server.cw("message", "thread", reply["id"])).stdout.splitlines()
    assert thread[0].startswith(message_id) and thread[2].strip().startswith(reply["id"])

    read = ok(server.cw("message", "read", reply["id"], env=alice["env"]))
    assert read.stdout.strip() == f"message {reply['id']} is read"
    updated = ok(server.cw("message", "update", message_id, "--status", "responded"))
    assert updated.stdout.strip() == f"updated message {message_id}: responded"
    deleted = ok(server.cw("message", "delete", message_id))
    assert deleted.stdout.strip() == f"deleted message {message_id}; with it: 1 reply"
    assert as_json(server.cw("message", "list", "--json"))["items"] == []


def test_logs_round_trip(server: ServerProcess) -> None:
    worker = register(server, "--name", "worker")

    first = ok(server.cw("logs", "append", "worker", '{"n":1}', env=worker["env"]))
    assert "session 1" in first.stdout
    ok(
        server.cw(
            "logs", "append", "worker", "-", "--session", "2", env=worker["env"], input='{"n":2}\n'
        )
    )
    assert ok(server.cw("logs", "show", "worker", "--raw")).stdout == '{"n":1}\n{"n":2}\n'
    session_two = as_json(server.cw("logs", "show", "worker", "--session", "2", "--json"))
    assert [(c["agentName"], c["content"]) for c in session_two] == [("worker", '{"n":2}\n')]
    assert "2 session(s)" in ok(server.cw("logs", "sessions", "worker")).stdout

    ok(server.cw("agent", "delete", "worker"))
    kept = ok(server.cw("logs", "show", worker["id"])).stdout
    assert kept == '{"n":1}\n{"n":2}\n'
    deleted = ok(server.cw("logs", "delete", worker["id"]))
    assert deleted.stdout.strip() == f"deleted 2 log chunk(s) of agent {worker['id']}"
    assert ok(server.cw("logs", "show", worker["id"])).stdout.strip() == "(no log)"
