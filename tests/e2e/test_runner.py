"""crosswalk runs the agents: a real server spawns the fake `claude` and `codex` (real
subprocesses speaking the real CLIs' formats) in real git worktrees, and everything is
driven and checked through the real `cw`."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import (
    Plan,
    agent_in,
    clone_of,
    git,
    js,
    make_plan,
    ok,
    pid_alive,
    refused,
    runner_server,
    until,
    worktrees_listed,
)
from tests.support.server import CallError, ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.runner]  # `server` runs the fake agents (conftest.py)


def test_spawn_runs_the_agent_in_its_worktree_and_ends_idle_with_its_result(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "hello",
        [
            {"kind": "write", "path": "hello.txt", "content": "hi from the agent\n"},
            {"kind": "bash", "command": "cw agent show --json > me.json"},
            {"kind": "result", "text": "wrote hello.txt"},
        ],
    )
    task = plan.task(server, "Greeting", f"Say hello in a file.\n{key}")

    spawned = js(server, "agent", "spawn", "--task", task["id"])
    assert spawned["status"] == "running"
    agent = agent_in(server, spawned["id"], "idle")

    worktree = Path(agent["worktreeId"])
    assert worktree == server.home / "worktrees" / agent["id"] / "api"
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=worktree).strip()
    assert branch == f"cw/auth-rewrite--{agent['name']}"
    clone = clone_of(server, plan.project)
    start = git("rev-parse", "cw/auth-rewrite", cwd=clone).strip()
    assert start == git("rev-parse", "main", cwd=plan.origin).strip()
    assert (worktree / "hello.txt").read_text() == "hi from the agent\n"
    # The worktree was prepared with the hooks that bring questions to a busy agent,
    # kept out of git.
    hooks = json.loads((worktree / ".claude" / "settings.local.json").read_text())
    assert "PostToolUse" in hooks["hooks"]
    status = git("status", "--porcelain", cwd=worktree)
    assert ".claude" not in status and "hello.txt" in status
    # `cw` inside the agent worked with no set-up, as that agent.
    assert json.loads((worktree / "me.json").read_text())["id"] == agent["id"]

    assert agent["exitCode"] == 0
    assert agent["result"]["result"] == "wrote hello.txt"
    assert agent["result"]["isError"] is False
    [call] = fake_agents.calls("claude")
    assert agent["sessionId"] == call["session_id"]
    assert call["cwd"] == str(worktree)
    assert call["env"]["CW_AGENT_ID"] == agent["id"]
    assert call["env"]["CW_TOKEN"] is True
    prompt = call["argv"][call["argv"].index("-p") + 1]
    for verbatim in ("Greeting", "Say hello in a file.", "Backend", agent["name"], "cw ask"):
        assert verbatim in prompt
    # the initiative's merges need approval (the default): the work waits for a person
    assert js(server, "task", "show", task["id"])["status"] == "pending_approval"

    readable = ok(server, "logs", "show", agent["id"])
    assert "tool Write" in readable
    assert "result (success): wrote hello.txt" in readable
    raw = ok(server, "logs", "show", agent["id"], "--raw")
    lines = [json.loads(line) for line in raw.splitlines()]
    assert lines[0]["type"] == "system" and lines[-1]["type"] == "result"
    assert raw == Path(agent["outputFilePath"]).read_text()
    chunks = js(server, "logs", "show", agent["id"])
    assert {chunk["sessionNumber"] for chunk in chunks} == {1}


def test_a_crash_marks_the_agent_crashed_with_its_exit_code(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "crash", [{"kind": "text", "text": "oh no"}, {"kind": "exit", "code": 3}]
    )
    task = plan.task(server, "Doomed", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    agent = agent_in(server, spawned["id"], "crashed")
    assert agent["exitCode"] == 3
    assert "without a result" in agent["result"]["error"]
    assert js(server, "task", "show", task["id"])["status"] == "blocked"  # the person is asked


def test_resume_continues_the_session_as_log_session_two(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    # A resume's prompt names no script: the fake then runs "default" (run 2 on resume).
    key = fake_agents.script(
        "default",
        [{"kind": "result", "text": "first"}],
        [
            {"kind": "write", "path": "second.txt", "content": "2"},
            {"kind": "result", "text": "second"},
        ],
    )
    task = plan.task(server, "Twice", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    first = agent_in(server, spawned["id"], "idle")

    resumed = js(server, "agent", "resume", first["name"], "please go on")
    assert resumed["status"] == "running"
    done = agent_in(server, first["id"], "idle", "crashed")
    assert (done["status"], done["result"]["result"]) == ("idle", "second"), done
    _, second_call = fake_agents.calls("claude")
    argv = second_call["argv"]
    assert argv[argv.index("--resume") + 1] == first["sessionId"]
    assert argv[argv.index("-p") + 1] == "please go on"
    assert second_call["run_index"] == 1
    assert done["sessionId"] == first["sessionId"]
    assert (Path(done["worktreeId"]) / "second.txt").read_text() == "2"
    assert "has logged 2 session(s)" in ok(server, "logs", "sessions", first["id"])
    session_two = js(server, "logs", "show", first["id"], "--session", "2")
    assert "second" in "".join(chunk["content"] for chunk in session_two)


def test_stop_ends_the_process_group_and_clean_removes_the_worktree(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "long",
        [
            {"kind": "bash", "command": "sleep 300 & echo $! > child.pid; wait"},
            {"kind": "result"},
        ],
    )
    task = plan.task(server, "Long", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    worktree = Path(spawned["worktreeId"])
    pid_file = worktree / "child.pid"
    child = int(until(lambda: pid_file.exists() and pid_file.read_text().strip(), "its child"))
    assert pid_alive(spawned["pid"]) and pid_alive(child)

    refusal = refused(server, "agent", "clean", spawned["id"])
    assert "is running; stop it first" in refusal
    # While crosswalk runs the agent, its run state is crosswalk's alone.
    refusal = refused(server, "agent", "update", spawned["id"], "--status", "idle")
    assert "alone changes its status while it runs" in refusal
    stopped = js(server, "agent", "stop", spawned["name"])
    assert stopped["status"] == "stopped"
    until(lambda: not pid_alive(spawned["pid"]) and not pid_alive(child), "the group to end")

    clone = clone_of(server, plan.project)
    assert worktrees_listed(clone) == [str(worktree)]
    cleaned = js(server, "agent", "clean")
    assert cleaned["cleaned"] == [
        {"agentId": spawned["id"], "agentName": spawned["name"], "worktrees": [str(worktree)]}
    ]
    assert not worktree.exists()
    assert worktrees_listed(clone) == []
    branch = f"cw/auth-rewrite--{spawned['name']}"
    assert git("branch", "--list", branch, cwd=clone).strip()  # the branch stays
    assert "no worktrees to remove" in ok(server, "agent", "clean")


def test_deleting_an_agent_removes_its_worktree(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    task = plan.task(server, "Quick", fake_agents.script("quick", [{"kind": "result"}]))
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    agent_in(server, spawned["id"], "idle")
    ok(server, "agent", "delete", spawned["id"])
    assert not Path(spawned["worktreeId"]).exists()
    assert worktrees_listed(clone_of(server, plan.project)) == []


def test_a_usage_limit_exhausts_the_account_and_resumes_on_the_next(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    resets_at = 1_900_000_000
    key = fake_agents.script(
        "default",
        [{"kind": "text", "text": "working"}, {"kind": "usage_limit", "resets_at": resets_at}],
        [
            {"kind": "write", "path": "after.txt", "content": "resumed"},
            {"kind": "result", "text": "made it"},
        ],
    )
    first = js(server, "account", "create", "one@example.com", "--provider", "claude")
    second = js(server, "account", "create", "two@example.com", "--provider", "claude")
    task = plan.task(server, "Limited", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"], "--account", first["id"])
    assert spawned["accountId"] == first["id"]

    done = until(
        lambda: (
            (a := js(server, "agent", "show", spawned["id"]))["status"] == "idle"
            and a["accountId"] == second["id"]
            and a
        ),
        "the agent to finish on the second account",
    )
    assert done["result"]["result"] == "made it"
    exhausted = js(server, "account", "show", first["id"])
    assert exhausted["isExhausted"] is True
    assert exhausted["exhaustedUntil"] == "2030-03-17T17:46:40.000Z"
    limited_call, resumed_call = fake_agents.calls("claude")
    assert limited_call["env"]["CLAUDE_CONFIG_DIR"] == str(server.home / "accounts" / first["id"])
    assert resumed_call["env"]["CLAUDE_CONFIG_DIR"] == str(server.home / "accounts" / second["id"])
    argv = resumed_call["argv"]
    assert argv[argv.index("--resume") + 1] == limited_call["session_id"]
    # The fake, like the real CLI, finds the session only if its transcript was carried over.
    assert resumed_call["run_index"] == 1
    assert (Path(done["worktreeId"]) / "after.txt").read_text() == "resumed"
    assert "has logged 2 session(s)" in ok(server, "logs", "sessions", spawned["id"])


def test_codex_usage_limit_moves_the_thread_to_the_next_account(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "default",
        [{"kind": "usage_limit", "resets_at": 1_900_000_000}],
        [{"kind": "result", "text": "codex made it"}],
    )
    first = js(server, "account", "create", "c1@example.com", "--provider", "codex")
    second = js(server, "account", "create", "c2@example.com", "--provider", "codex")
    task = plan.task(server, "Codex limited", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"], "--provider", "codex")
    assert spawned["accountId"] == first["id"]

    agent = until(
        lambda: (a := js(server, "agent", "show", spawned["id"]))["status"] != "running" and a,
        "the agent to finish",
    )
    assert (agent["status"], agent["accountId"]) == ("idle", second["id"]), agent["result"]
    assert agent["result"]["result"] == "codex made it"
    assert js(server, "account", "show", first["id"])["isExhausted"] is True
    limited, resumed = fake_agents.calls("codex")
    assert resumed["env"]["CODEX_HOME"] == str(server.home / "accounts" / second["id"])
    assert resumed["argv"][resumed["argv"].index("resume") + 1] == limited["session_id"]
    assert resumed["run_index"] == 1  # the rollout was carried to the new CODEX_HOME


def test_two_agents_ask_each_other_from_inside_their_runs(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    answerer_key = fake_agents.script(
        "answerer",
        [
            {
                "kind": "bash",
                "command": (
                    "cw listen --timeout 60 --json > question.json && "
                    'cw answer "$(python3 -c \'import json; q = json.load(open("question.json"));'
                    " print((q[0] if isinstance(q, list) else q)[\"id\"])')\" 'port 8443'"
                ),
            },
            {"kind": "result", "text": "answered"},
        ],
    )
    answerer_task = plan.task(server, "Auth service", answerer_key)
    answerer = js(server, "agent", "spawn", "--task", answerer_task["id"])
    asker_key = fake_agents.script(
        "asker",
        [
            {
                "kind": "bash",
                "command": (
                    f"cw ask --task {answerer_task['id']} 'which port does auth use?' "
                    "--timeout 60 > answer.txt"
                ),
            },
            {"kind": "result", "text": "asked"},
        ],
    )
    asker_task = plan.task(server, "Client", asker_key)
    asker = js(server, "agent", "spawn", "--task", asker_task["id"])

    asked = agent_in(server, asker["id"], "idle", "crashed")
    answered = agent_in(server, answerer["id"], "idle", "crashed")
    assert (asked["status"], answered["status"]) == ("idle", "idle")
    assert (Path(asked["worktreeId"]) / "answer.txt").read_text().strip() == "port 8443"
    [conversation] = js(server, "conversation", "list")["items"]
    assert (conversation["fromAgentId"], conversation["toAgentId"]) == (asker["id"], answerer["id"])
    assert conversation["answer"] == "port 8443"


def test_codex_runs_in_a_writable_sandbox(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    key = fake_agents.script(
        "codex-writes",
        [
            {"kind": "write", "path": "codex.txt", "content": "from codex"},
            {"kind": "result", "text": "ok"},
        ],
    )
    task = plan.task(server, "Codex work", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"], "--provider", "codex")
    agent = agent_in(server, spawned["id"], "idle", "crashed")
    assert agent["status"] == "idle", agent["result"]
    assert (Path(agent["worktreeId"]) / "codex.txt").read_text() == "from codex"
    [call] = fake_agents.calls("codex")
    assert agent["sessionId"] == call["session_id"]
    assert call["argv"][call["argv"].index("--sandbox") + 1] == "workspace-write"


def test_logs_follow_streams_until_the_agent_ends(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    key = fake_agents.script(
        "gated",
        [
            {"kind": "text", "text": "before the gate"},
            {"kind": "wait_for_file", "path": str(gate), "timeout": 60},
            {"kind": "text", "text": "after the gate"},
            {"kind": "result", "text": "through"},
        ],
    )
    task = plan.task(server, "Gated", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    follower = server.spawn_cw("logs", "show", spawned["id"], "--follow")
    assert follower.stdout is not None
    first_lines = []
    while not any("before the gate" in line for line in first_lines):
        first_lines.append(follower.stdout.readline())
    assert follower.poll() is None  # still following
    gate.touch()
    rest, _ = follower.communicate(timeout=60)
    assert follower.returncode == 0
    assert "assistant: after the gate" in rest
    assert rest.rstrip().endswith("result (success): through")


def test_spawn_errors_are_clear(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    task = plan.task(
        server, "Busy", fake_agents.script("busy", [{"kind": "sleep", "seconds": 120}])
    )
    busy = js(server, "agent", "spawn", "--task", task["id"])
    message = refused(server, "agent", "spawn", "--task", task["id"])
    assert f"already has an active agent: {busy['name']}" in message

    with pytest.raises(CallError) as unknown:
        server.call("mutation", "agent.spawn", {"taskId": task["id"], "provider": "gpt"})
    assert unknown.value.code == "BAD_REQUEST"
    assert "unknown provider 'gpt'" in unknown.value.message

    loose = js(server, "task", "create", "Loose task")
    assert "belongs to no initiative" in refused(server, "agent", "spawn", "--task", loose["id"])

    other = js(server, "initiative", "create", "Elsewhere")
    phase = js(server, "phase", "create", "--initiative", other["id"], "P")
    nowhere = js(server, "project", "create", "ghost", str(tmp_path / "no-such-repo"))
    ok(server, "project", "link", other["id"], nowhere["id"])
    ghost_task = js(server, "task", "create", "--phase", phase["id"], "Ghost")
    message = refused(server, "agent", "spawn", "--task", ghost_task["id"])
    assert "cannot clone project ghost" in message
    assert "does not exist" in message  # git's own words
    assert [a["id"] for a in js(server, "agent", "list")["items"]] == [busy["id"]]


def test_a_missing_executable_names_the_path_tried(tmp_path: Path, fake_agents: FakeAgents) -> None:
    for server in runner_server(tmp_path, fake_agents, CW_CLAUDE_PATH="/nowhere/claude"):
        plan = make_plan(server, tmp_path)
        task = plan.task(server, "T", "x")
        message = refused(server, "agent", "spawn", "--task", task["id"])
        assert "'/nowhere/claude' (set by CW_CLAUDE_PATH)" in message
        assert js(server, "agent", "list")["items"] == []


# -- the server dies and comes back -----------------------------------------------------


def test_an_agent_survives_a_killed_server_and_is_adopted_by_the_next(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    key = fake_agents.script(
        "survivor",
        [
            {"kind": "text", "text": "before the crash"},
            {"kind": "wait_for_file", "path": str(gate), "timeout": 120},
            {"kind": "text", "text": "after the restart"},
            {"kind": "result", "text": "survived"},
        ],
    )
    task = plan.task(server, "Survivor", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    until(lambda: "before the crash" in ok(server, "logs", "show", spawned["id"]), "first output")

    server.stop(signal.SIGKILL)
    assert pid_alive(spawned["pid"])  # the agent runs on without its server
    server.start()
    assert js(server, "agent", "show", spawned["id"])["status"] == "running"
    gate.touch()
    agent = agent_in(server, spawned["id"], "idle", "crashed")
    assert agent["status"] == "idle"
    assert agent["result"]["result"] == "survived"
    chunks = js(server, "logs", "show", spawned["id"])
    logged = "".join(chunk["content"] for chunk in chunks)
    assert logged == Path(agent["outputFilePath"]).read_text()  # nothing lost, nothing twice
    assert logged.count("before the crash") == 1


def test_an_agent_that_ends_while_the_server_is_down_is_recorded_on_start(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    key = fake_agents.script(
        "dies-alone",
        [
            {"kind": "text", "text": "waiting"},
            {"kind": "wait_for_file", "path": str(gate), "timeout": 120},
            {"kind": "exit", "code": 7},
        ],
    )
    task = plan.task(server, "Alone", key)
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    until(lambda: "waiting" in ok(server, "logs", "show", spawned["id"]), "first output")
    server.stop(signal.SIGKILL)
    gate.touch()
    until(lambda: not pid_alive(spawned["pid"]), "the agent to end")
    server.start()
    agent = agent_in(server, spawned["id"], "crashed", "idle")
    assert agent["status"] == "crashed"
    assert agent["exitCode"] == 7  # from the exit file the agent's wrapper left


def test_a_normal_stop_leaves_agents_running_unless_told(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    task = plan.task(
        server, "Sleeper", fake_agents.script("sleeper", [{"kind": "sleep", "seconds": 120}])
    )
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    assert server.stop() == 0
    assert pid_alive(spawned["pid"])
    server.start()
    assert js(server, "agent", "show", spawned["id"])["status"] == "running"
    js(server, "agent", "stop", spawned["id"])
    assert not pid_alive(spawned["pid"])


def test_serve_stop_agents_stops_them_on_exit(
    server: ServerProcess, plan: Plan, fake_agents: FakeAgents
) -> None:
    task = plan.task(
        server, "Sleeper", fake_agents.script("sleeper", [{"kind": "sleep", "seconds": 120}])
    )
    spawned = js(server, "agent", "spawn", "--task", task["id"])
    server.stop()
    server.start(extra_args=("--stop-agents",))
    assert js(server, "agent", "show", spawned["id"])["status"] == "running"  # adopted
    assert server.stop() == 0
    until(lambda: not pid_alive(spawned["pid"]), "the agent to be stopped")
    server.start()
    assert js(server, "agent", "show", spawned["id"])["status"] == "stopped"
