"""Answering an idle agent: the wall time of ``cw ask`` when the agent asked has ended its
run and must be resumed to answer.

The server runs the fake ``claude`` of tests/agents (a real subprocess speaking Claude
Code's stream-json): one agent does its task and goes idle; then, sample after sample,
another agent runs ``cw ask --agent`` and the clock stops when the answer is printed.
In between the server hears the question, resumes the idle agent's session in its
worktree (``claude --resume``, a new process), the agent runs ``cw answer`` from its
prompt, and the asker's long poll wakes. So each sample holds two ``cw`` start-ups, a
CLI process start and the answering run's bookkeeping: what a person or an agent waits
for, end to end. The next sample starts once the agent is idle again.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

from bench.report import REPO_ROOT, Column, Section
from bench.server import CW, BenchServer, cw_env
from bench.settings import Settings

FAKE_AGENTS = REPO_ROOT / "tests" / "agents" / "bin"
SCRIPT = {
    "runs": [
        [{"kind": "result", "text": "built"}],
        [{"kind": "answer_prompt_questions", "text": "port 8443"}, {"kind": "result"}],
    ]
}
SCRIPT_KEY = "fake-script: answerer"
WAIT_S = 60.0


def run(settings: Settings) -> Section:
    section = Section(
        "answering",
        "Answering: cw ask to an idle fake agent, resume included",
        [
            Column("case", "case"),
            Column("p50_ms", "p50 ms", 1),
            Column("p95_ms", "p95 ms", 1),
            Column("min_ms", "min ms", 1),
            Column("max_ms", "max ms", 1),
            Column("samples", "samples"),
        ],
    )
    samples = settings.count(20, 3)
    home = settings.workdir("answering")
    scripts = home / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "answerer.json").write_text(json.dumps(SCRIPT))
    env = {
        "PATH": f"{FAKE_AGENTS}{os.pathsep}{os.environ.get('PATH', '')}",
        "CW_FAKE_AGENT_SCRIPTS": str(scripts),
    }
    with BenchServer(home / "server", env=env) as server:
        agent = _idle_agent(server, home)
        [asker] = server.create_agents(1)
        ask_env = cw_env(server.home, server.url, CW_AGENT_ID=asker.id, CW_TOKEN=asker.token)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            done = subprocess.run(
                [CW, "ask", "--agent", agent, "--timeout", str(WAIT_S), "which port?"],
                env=ask_env,
                capture_output=True,
                text=True,
                timeout=WAIT_S + 10,
            )
            elapsed = (time.perf_counter() - started) * 1000
            if done.returncode != 0 or done.stdout != "port 8443\n":
                raise RuntimeError(f"cw ask gave {done.returncode}: {done.stdout}{done.stderr}")
            times.append(elapsed)
            _until_idle(server, agent)
    ordered = sorted(times)
    section.rows.append(
        {
            "case": "idle fake claude, resumed to answer",
            "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            "min_ms": ordered[0],
            "max_ms": ordered[-1],
            "samples": len(ordered),
        }
    )
    section.notes.append(
        "Each sample: cw ask starts, the server resumes the idle agent's session (a new "
        "fake claude process), it runs cw answer, cw ask prints the answer and exits. "
        "The CLI wall time section gives the cost of one cw start-up alone."
    )
    return section


def _idle_agent(server: BenchServer, home: Path) -> str:
    """An agent spawned on a task of a fresh repository, once its run ended idle."""
    origin = home / "origin"
    origin.mkdir(exist_ok=True)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for args in (
        ["init", "--quiet", "-b", "main"],
        [*identity, "commit", "--quiet", "--allow-empty", "-m", "start"],
    ):
        subprocess.run(["git", *args], cwd=origin, check=True, capture_output=True, timeout=60)
    [initiative] = server.admin_mutations("initiative.create", [{"name": "bench"}])
    [project] = server.admin_mutations("project.create", [{"name": "api", "url": str(origin)}])
    server.admin_mutations(
        "project.addToInitiative", [{"initiativeId": initiative["id"], "projectId": project["id"]}]
    )
    [task] = server.admin_mutations(
        "task.create",
        [{"name": "answer", "initiativeId": initiative["id"], "description": SCRIPT_KEY}],
    )
    [agent] = server.admin_mutations("agent.spawn", [{"taskId": task["id"]}])
    _until_idle(server, str(agent["name"]))
    return str(agent["name"])


def _until_idle(server: BenchServer, agent: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        [found] = server.admin_queries("agent.get", [{"id": agent}])
        if found["status"] == "idle":
            return
        if found["status"] in ("crashed", "stopped"):
            raise RuntimeError(f"agent {agent} is {found['status']}: {found.get('result')}")
        time.sleep(0.02)
    raise RuntimeError(f"agent {agent} did not become idle within {WAIT_S:g} s")
