"""Wall time of the ``cw`` command, as an agent's shell sees it: fork, exec, import,
one request, exit; beside bare ``python -c pass`` in the same run, so the difference
(what ``cw`` itself costs) holds across machines. ``cw mcp`` (the stdio relay to the
server's MCP endpoint that an agent CLI starts) is timed from its start to its answer to
``initialize``, the first thing a client waits for: the relay forwards it to the running
server, whose MCP SDK answers it.

Commands are timed in interleaved rounds (each command once per round), so a machine
that gets busier during the run slows every command alike. ``cw answer`` gets a fresh
pending conversation on every run; ``cw hook claude PostToolUse`` runs as Claude Code
runs it after each tool call, once with nothing pending (the common case) and once with
one question that the session has not been shown (a fresh session id per run).
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.loadgen import Connection, run_async
from bench.report import Column, Section, Target
from bench.server import CW, BenchAgent, BenchServer, cw_env
from bench.settings import Settings

RUN_TIMEOUT_S = 30.0
TARGET_MEDIAN_MS = 60.0
#: What ``cw`` may add to bare interpreter start-up (the targets, in ms).
TARGET_OVER_PYTHON_MS = 25.0
TARGET_HOOK_OVER_PYTHON_MS = 20.0
#: ``cw mcp`` from start to its answer to ``initialize``, which the server's SDK gives.
TARGET_MCP_INITIALIZE_MS = 1000.0
BASELINE = "python -c pass"
MCP_LABEL = "cw mcp, start to its answer to initialize"
MCP_COLD_LABEL = "cw mcp, the server's first /mcp request (it imports the MCP SDK)"
MCP_INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    }
)


@dataclass
class Measured:
    """One timed command: how to make its argv and stdin for each run."""

    label: str
    make: Callable[[], tuple[list[str], str | None]]
    over_python_target_ms: float | None
    times: list[float]
    error: str = ""
    cpu_times: list[float] = field(default_factory=list)
    env: dict[str, str] | None = None  # added to the run's environment
    #: Timed until its first line of output (a server's first answer), not its exit.
    until_first_line: bool = False


def _ask(port: int, asker: BenchAgent, answerer: BenchAgent) -> str:
    async def ask() -> str:
        connection = await Connection.open(port, asker.token)
        try:
            asked = await connection.mutation(
                "conversation.ask",
                {"fromAgentId": asker.id, "toAgentId": answerer.id, "question": "cli?"},
            )
        finally:
            await connection.close()
        return str(asked["id"])

    conversation_id: str = run_async(ask)
    return conversation_id


def _hook_event(session: str, cwd: str) -> str:
    return json.dumps(
        {
            "session_id": session,
            "cwd": cwd,
            "hook_event_name": "PostToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": "ls"},
            "tool_response": {"stdout": "README.md\n", "stderr": "", "interrupted": False},
        }
    )


def _time_rounds(runs: int, env: dict[str, str], cwd: str, measured: list[Measured]) -> None:
    """``runs`` timed rounds after one untimed warm-up round; each command once a round."""
    for n in range(runs + 1):
        for item in measured:
            if item.error:
                continue
            argv, stdin = item.make()
            run_env = {**env, **item.env} if item.env else env
            cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            run_once = _first_line if item.until_first_line else _to_exit
            elapsed, error = run_once(argv, stdin, run_env, cwd)
            cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if error:
                item.error = f"{item.label} {error}"
            elif n:
                item.times.append(elapsed)
                item.cpu_times.append(
                    (
                        cpu_after.ru_utime
                        - cpu_before.ru_utime
                        + cpu_after.ru_stime
                        - cpu_before.ru_stime
                    )
                    * 1000
                )


def _to_exit(
    argv: list[str], stdin: str | None, env: dict[str, str], cwd: str
) -> tuple[float, str]:
    """Milliseconds from start to exit, and what went wrong (empty if nothing)."""
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, f"exited {done.returncode}: {done.stderr.strip()}" if done.returncode else ""


def _first_line(
    argv: list[str], stdin: str | None, env: dict[str, str], cwd: str
) -> tuple[float, str]:
    """Milliseconds from start to the first line on stdout (``stdin`` written at once, as a
    client does); then stdin is closed and the process waited for, untimed."""
    started = time.perf_counter()
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(stdin or "")
    process.stdin.flush()
    line = process.stdout.readline()
    elapsed = (time.perf_counter() - started) * 1000
    try:  # closes stdin: the end of the session
        _, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    if '"result"' not in line:
        return elapsed, f"gave no answer ({line.strip()!r}): {stderr.strip()}"
    return elapsed, ""


def _expect_output(
    label: str, argv: list[str], stdin: str, env: dict[str, str], cwd: str, *, printed: bool
) -> str:
    """Check once, untimed, that the hook does what is timed (prints or stays silent)."""
    done = subprocess.run(
        argv, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    if bool(done.stdout.strip()) != printed:
        return f"{label}: expected {'a delivery' if printed else 'no output'}, got {done.stdout!r}"
    return ""


def run(settings: Settings) -> Section:
    section = Section(
        "cli",
        "CLI wall time (process start to exit), beside bare Python in the same run",
        [
            Column("command", "command"),
            Column("median_ms", "median ms", 1),
            Column("over_python_ms", "over python ms", 1),
            Column("cpu_ms", "CPU ms", 1),
            Column("cpu_over_python_ms", "CPU over python ms", 1),
            Column("min_ms", "min ms", 1),
            Column("max_ms", "max ms", 1),
            Column("runs", "runs"),
        ],
    )
    runs = settings.count(20, 5)
    home = settings.workdir("cli")
    worktree = home / "worktree"
    worktree.mkdir(exist_ok=True)
    with BenchServer(home) as server:
        asker, answerer, quiet, busy = server.create_agents(4)
        as_answerer = cw_env(home, server.url, CW_TOKEN=answerer.token, CW_AGENT_ID=answerer.id)
        # Bytecode as after `pip install`: cached (here in a private prefix, so neither the
        # source tree nor the caller's PYTHONDONTWRITEBYTECODE decides what is measured).
        # The warm-up round fills the cache.
        cached = {**as_answerer, "PYTHONPYCACHEPREFIX": str(home / "bytecode")}
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        cached.pop("CLAUDE_PROJECT_DIR", None)
        inspected = _ask(server.port, asker, answerer)
        _ask(server.port, asker, busy)  # the one question pending for `busy`
        sessions = iter(range(1_000_000))
        hook = [CW, "hook", "claude", "PostToolUse"]

        def as_agent(agent: BenchAgent) -> dict[str, str]:
            return {"CW_AGENT_ID": agent.id, "CW_TOKEN": agent.token}

        measured = [
            Measured(BASELINE, lambda: ([sys.executable, "-c", "pass"], None), None, []),
            Measured("cw --version", lambda: ([CW, "--version"], None), TARGET_OVER_PYTHON_MS, []),
            Measured(
                "cw conversation get ID",
                lambda: ([CW, "conversation", "get", "--", inspected], None),
                TARGET_OVER_PYTHON_MS,
                [],
            ),
            Measured(
                "cw answer ID TEXT",
                lambda: (
                    [CW, "answer", "--", _ask(server.port, asker, answerer), "from the shell"],
                    None,
                ),
                TARGET_OVER_PYTHON_MS,
                [],
            ),
            Measured(
                "cw hook claude PostToolUse, nothing pending",
                lambda: (hook, _hook_event("quiet-session", str(worktree))),
                TARGET_HOOK_OVER_PYTHON_MS,
                [],
                env=as_agent(quiet),
            ),
            Measured(
                "cw hook claude PostToolUse, one question pending",
                lambda: (hook, _hook_event(f"session-{next(sessions)}", str(worktree))),
                TARGET_HOOK_OVER_PYTHON_MS,
                [],
                env=as_agent(busy),
            ),
            Measured(
                MCP_LABEL,
                lambda: ([CW, "mcp"], MCP_INITIALIZE + "\n"),
                None,
                [],
                env=as_agent(quiet),
                until_first_line=True,
            ),
        ]
        for item, printed in ((measured[4], False), (measured[5], True)):
            argv, stdin = item.make()
            item.error = _expect_output(
                item.label,
                argv,
                stdin or "",
                {**cached, **(item.env or {})},
                str(worktree),
                printed=printed,
            )
        mcp = measured[-1]
        cold_ms, cold_error = _first_line(
            *mcp.make(), {**cached, **(mcp.env or {})}, str(worktree)
        )  # before any other /mcp request, so the server loads the SDK for this one
        if cold_error:
            section.errors.append(f"{MCP_COLD_LABEL} {cold_error}")
        _time_rounds(runs, cached, str(worktree), measured)
    baseline = statistics.median(measured[0].times) if measured[0].times else float("nan")
    cpu_baseline = statistics.median(measured[0].cpu_times or [float("nan")])
    for item in measured:
        if item.error:
            section.errors.append(item.error)
        median = statistics.median(item.times) if item.times else float("nan")
        cpu = statistics.median(item.cpu_times or [float("nan")])
        section.rows.append(
            {
                "command": item.label,
                "median_ms": median,
                "over_python_ms": median - baseline,
                "cpu_ms": cpu,
                "cpu_over_python_ms": cpu - cpu_baseline,
                "min_ms": min(item.times, default=float("nan")),
                "max_ms": max(item.times, default=float("nan")),
                "runs": len(item.times),
            }
        )
        if item.over_python_target_ms is not None:
            section.targets.append(
                Target(
                    f"{item.label}: median over `{BASELINE}`",
                    median - baseline,
                    item.over_python_target_ms,
                    "ms",
                    higher_is_better=False,
                )
            )
            if not item.label.startswith("cw hook"):
                section.targets.append(
                    Target(
                        f"{item.label}: median wall time",
                        median,
                        TARGET_MEDIAN_MS,
                        "ms",
                        higher_is_better=False,
                    )
                )
        if item.label == MCP_LABEL:
            section.targets.append(
                Target(
                    f"{item.label}: median wall time",
                    median,
                    TARGET_MCP_INITIALIZE_MS,
                    "ms",
                    higher_is_better=False,
                )
            )
    section.rows.append(
        {
            "command": MCP_COLD_LABEL,
            "median_ms": cold_ms,
            "over_python_ms": cold_ms - baseline,
            "cpu_ms": float("nan"),
            "cpu_over_python_ms": float("nan"),
            "min_ms": cold_ms,
            "max_ms": cold_ms,
            "runs": 1,
        }
    )
    section.notes += [
        f"{runs} timed rounds after one untimed warm-up round; in each round every command "
        "runs once, in the order listed, so load on the machine falls on all of them alike. "
        "Wall time measured around subprocess.run (fork + exec + imports + request + exit). "
        "`cw answer` answers a fresh pending conversation each run (asked beforehand, not "
        "timed). The hook runs read a PostToolUse event on stdin in a worktree directory; "
        "with one question pending, each run is a new session, so the question is shown "
        "(and the session's state file written) every time. `cw mcp` is timed from its start "
        "to the first line it prints, its answer to the `initialize` written on its stdin "
        "at once: the relay POSTs it to the server's /mcp with the agent's token, and the "
        "server's MCP SDK answers; its exit is not timed, and its CPU ms include the exit. "
        "The server loads the SDK at its first /mcp request: that one request is timed "
        "alone, before the rounds (its own row, once; the SDK's import is in the server "
        "process, whose CPU is not counted).",
        "CPU ms is the process's user + system CPU time (getrusage of the waited child): "
        "unlike wall time it hardly moves when other work shares the machine, so on a busy "
        "machine its difference to the baseline is the better guide to what `cw` costs.",
        "Bytecode is cached as after an install (in a private PYTHONPYCACHEPREFIX, filled by "
        "the warm-up run). Without any cache (PYTHONDONTWRITEBYTECODE=1, no __pycache__ in "
        "src/) each run also compiles the CLI's modules: about 8-10 ms more.",
    ]
    return section
