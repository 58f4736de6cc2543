"""What a fake agent does: its script, the steps in it, and the logs it leaves for the test.

A script is a JSON file in the directory named by ``CW_FAKE_AGENT_SCRIPTS``. The prompt picks
it with a line ``fake-script: NAME`` (``NAME.json``); without one, ``default.json`` is used,
and without that a built-in script that just finishes. The format and the step kinds are
described in tests/agents/README.md.

Standard library only: the fake CLIs import this module from a plain ``python3``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

SCRIPTS_ENV = "CW_FAKE_AGENT_SCRIPTS"
CALLS_FILE = "calls.jsonl"
SEEN_FILE = "seen.jsonl"
DEFAULT_SCRIPT = "default"
SCRIPT_KEY = re.compile(r"fake-script:\s*([A-Za-z0-9_.-]+)")
# `cw answer -- ID` is how an id that starts with "-" is written (nanoid ids may).
ANSWER_COMMAND = re.compile(r"""cw answer\s+(?:--\s+)?(?:"([^"\s]+)"|'([^'\s]+)'|([^\s"']+))""")
RECORDED_ENV = ("CW_URL", "CW_AGENT_ID", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "HOME")
DEFAULT_MAX_STOP_BLOCKS = 5
BUILTIN_SCRIPT: dict[str, Any] = {"runs": [[{"kind": "result", "text": "done"}]]}


class ScriptError(Exception):
    """The test's script is wrong: the fake says so on stderr and exits 2."""


@dataclass
class Script:
    name: str
    runs: list[list[dict[str, Any]]]
    on_stop_block: list[dict[str, Any]] = field(default_factory=list)
    max_stop_blocks: int = DEFAULT_MAX_STOP_BLOCKS

    def steps_for_run(self, run_index: int) -> list[dict[str, Any]]:
        """Run 0 is the first run, run k the k-th resume; past the end, the last one repeats."""
        if not self.runs:
            return []
        return self.runs[min(run_index, len(self.runs) - 1)]


def scripts_dir() -> Path | None:
    value = os.environ.get(SCRIPTS_ENV)
    return Path(value) if value else None


def load_script(prompt: str, session_script: str | None = None) -> Script:
    """The script the prompt names; else, on a resume, the one the session ran
    (``session_script``, read from its transcript: a session remembers its task); else
    the default."""
    directory = scripts_dir()
    match = SCRIPT_KEY.search(prompt)
    remembered = None if directory is None else directory / f"{session_script}.json"
    if match is None and session_script is not None and remembered and remembered.exists():
        match = SCRIPT_KEY.search(f"fake-script: {session_script}")
    name = match.group(1) if match else DEFAULT_SCRIPT
    if directory is None:
        if match:
            raise ScriptError(f"prompt names fake-script {name!r} but {SCRIPTS_ENV} is not set")
        return parse_script(DEFAULT_SCRIPT, BUILTIN_SCRIPT)
    path = directory / f"{name}.json"
    if not path.exists():
        if match:
            raise ScriptError(f"fake-script {name!r}: {path} does not exist")
        return parse_script(DEFAULT_SCRIPT, BUILTIN_SCRIPT)
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ScriptError(f"fake-script {path} is not JSON: {error}") from error
    return parse_script(name, data)


def parse_script(name: str, data: Any) -> Script:
    if isinstance(data, list):
        data = {"runs": [data]}
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise ScriptError(f"fake-script {name!r}: expected an object with a 'runs' list")
    runs = data["runs"]
    for steps in [*runs, data.get("on_stop_block", [])]:
        if not isinstance(steps, list):
            raise ScriptError(f"fake-script {name!r}: each run is a list of steps")
        for step in steps:
            if not isinstance(step, dict) or step.get("kind") not in STEP_KINDS:
                raise ScriptError(
                    f"fake-script {name!r}: bad step {step!r}; kinds: {', '.join(STEP_KINDS)}"
                )
    return Script(
        name=name,
        runs=runs,
        on_stop_block=data.get("on_stop_block", []),
        max_stop_blocks=int(data.get("max_stop_blocks", DEFAULT_MAX_STOP_BLOCKS)),
    )


def print_line(line: dict[str, Any]) -> None:
    """One JSON line on stdout as the real CLIs print it: compact, UTF-8 whatever the locale."""
    text = json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
    sys.stdout.buffer.write(text.encode())
    sys.stdout.buffer.flush()


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """One locked append per record, so concurrent fakes never interleave lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        fcntl.flock(handle, fcntl.LOCK_UN)


def record_call(cli: str, argv: list[str], **extra: Any) -> None:
    directory = scripts_dir()
    if directory is None:
        return
    env: dict[str, Any] = {name: os.environ.get(name) for name in RECORDED_ENV}
    env["CW_TOKEN"] = bool(os.environ.get("CW_TOKEN"))
    record = {"cli": cli, "argv": argv, "cwd": str(Path.cwd()), "pid": os.getpid(), "env": env}
    record.update(extra)
    append_jsonl(directory / CALLS_FILE, record)


def record_seen(cli: str, session_id: str, event: str, text: str) -> None:
    directory = scripts_dir()
    if directory is None:
        return
    append_jsonl(
        directory / SEEN_FILE,
        {
            "cli": cli,
            "session_id": session_id,
            "agent_id": os.environ.get("CW_AGENT_ID"),
            "cwd": str(Path.cwd()),
            "event": event,
            "text": text,
        },
    )


def answer_ids(text: str) -> list[str]:
    """The conversation ids of every `cw answer ID` command shown in a text, in order."""
    found: list[str] = []
    for match in ANSWER_COMMAND.finditer(text):
        conversation_id = next(group for group in match.groups() if group)
        if conversation_id != "ID" and conversation_id not in found:
            found.append(conversation_id)
    return found


def run_shell(command: str, cwd: Path, timeout: float) -> tuple[str, int]:
    """Run a command as an agent's shell tool does: output and errors together."""
    try:
        completed = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        output = expired.output or ""
        if isinstance(output, bytes):
            output = output.decode(errors="replace")
        return f"{output}\nCommand timed out after {timeout}s", 124
    return completed.stdout, completed.returncode


def session_script(transcript: Path | None) -> str | None:
    """The script a session's earlier runs ran (``fake-run`` lines record it)."""
    if transcript is None or not transcript.exists():
        return None
    name = None
    for line in transcript.read_text().splitlines():
        if '"fake-run"' in line:
            with contextlib.suppress(ValueError):
                name = json.loads(line).get("script", name)
    return name if isinstance(name, str) else None


class Agent(Protocol):
    """What each fake CLI does for a step, in its own output format."""

    def text(self, text: str) -> None: ...
    def write_file(self, path: Path, content: str) -> None: ...
    def shell(self, command: str, timeout: float) -> None: ...
    def usage_limit(self, resets_at: int) -> None: ...
    def crash(self, code: int) -> None: ...
    def finish(self, text: str, usage: dict[str, Any] | None = None) -> None: ...
    def seen_text(self) -> str: ...
    def prompt_text(self) -> str: ...


def run_steps(agent: Agent, steps: list[dict[str, Any]], answered: set[str]) -> None:
    for step in steps:
        STEP_KINDS[step["kind"]](agent, step, answered)


def _text(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    agent.text(str(step["text"]))


def _write(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    agent.write_file(Path(step["path"]), str(step.get("content", "")))


def _bash(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    agent.shell(str(step["command"]), float(step.get("timeout", 120)))


def _sleep(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    time.sleep(float(step["seconds"]))


def _wait_for_file(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    deadline = time.monotonic() + float(step.get("timeout", 60))
    path = Path(step["path"])
    if "announce" in step:  # no tool call, so no hook: the test learns the agent got here
        Path(step["announce"]).touch()
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _chatter(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    """A busy agent's stream: a text line every ``every`` seconds, on a fixed beat (a late
    line does not push the next ones back), until the file ``until`` exists or ``seconds``
    have passed."""
    every = float(step.get("every", 0.1))
    until = Path(step["until"]) if "until" in step else None
    started = time.monotonic()
    deadline = started + float(step.get("seconds", 600))
    for beat in range(1_000_000_000):
        if (until is not None and until.exists()) or time.monotonic() >= deadline:
            return
        agent.text(f"working, line {beat}")
        delay = started + (beat + 1) * every - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _exit(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    agent.crash(int(step.get("code", 1)))


def _usage_limit(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    agent.usage_limit(int(step.get("resets_at", time.time() + 3600)))


def _result(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    usage = step.get("usage")
    agent.finish(str(step.get("text", "done")), usage if isinstance(usage, dict) else None)


def _answer_seen_questions(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    template = str(step.get("text", "answer from {agent}"))
    for conversation_id in answer_ids(agent.seen_text()):
        if conversation_id in answered:
            continue
        answered.add(conversation_id)
        text = template.format(id=conversation_id, agent=os.environ.get("CW_AGENT_ID", "fake"))
        quoted = text.replace("'", "'\\''")
        agent.shell(f"cw answer -- {conversation_id} '{quoted}'", float(step.get("timeout", 60)))


def _answer_prompt_questions(agent: Agent, step: dict[str, Any], answered: set[str]) -> None:
    """What an agent resumed to answer does: run each ``cw answer ID`` of its prompt."""
    template = str(step.get("text", "answer from {agent}"))
    for conversation_id in answer_ids(agent.prompt_text()):
        if conversation_id in answered:
            continue
        answered.add(conversation_id)
        text = template.format(id=conversation_id, agent=os.environ.get("CW_AGENT_ID", "fake"))
        quoted = text.replace("'", "'\\''")
        agent.shell(f"cw answer -- {conversation_id} '{quoted}'", float(step.get("timeout", 60)))


STEP_KINDS: dict[str, Callable[[Agent, dict[str, Any], set[str]], None]] = {
    "text": _text,
    "write": _write,
    "bash": _bash,
    "sleep": _sleep,
    "wait_for_file": _wait_for_file,
    "exit": _exit,
    "chatter": _chatter,
    "usage_limit": _usage_limit,
    "result": _result,
    "answer_seen_questions": _answer_seen_questions,
    "answer_prompt_questions": _answer_prompt_questions,
}
