"""A fake `codex` CLI: speaks `codex exec --json` JSONL, scripted per test.

``codex exec --json [--sandbox MODE] [--skip-git-repo-check] [resume THREAD_ID] PROMPT``.
What it does is read from a script (see scripts.py); how it says it mirrors the real CLI
(docs in tests/agents/README.md).

Standard library only: launched by tests/agents/bin/codex with a plain ``python3``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any, NoReturn

from tests.agents import hooks, scripts

VERSION = "0.171.0"
MODEL = "gpt-5-codex"
EXEC_VALUE_OPTIONS = {"--sandbox", "-s", "--model", "-m", "--config", "-c", "--cd", "-C"}
EXEC_VALUE_OPTIONS |= {"--color", "--output-last-message", "-o", "--profile", "-p"}
EXEC_FLAGS = {"--json", "--skip-git-repo-check", "--full-auto", "--trust"}
EXEC_FLAGS |= {"--dangerously-bypass-approvals-and-sandbox", "--dangerously-bypass-hook-trust"}
RESUME_VALUE_OPTIONS = {"--model", "-m", "--config", "-c"}
RESUME_FLAGS = {"--json", "--skip-git-repo-check", "--last"}
SANDBOX_MODES = {"read-only", "workspace-write", "danger-full-access"}
WRITABLE = {"workspace-write", "danger-full-access"}
HOOK_EVENTS = {"SessionStart": "session_start", "PostToolUse": "post_tool_use", "Stop": "stop"}
SESSION_FLAGS_SOURCE = "/<session-flags>/config.toml"


def reset_time(resets_at: int, now: float | None = None) -> str:
    """When a usage limit resets, as the real Codex writes it (local time): the clock
    alone on the same day (``9:05 PM``), else with the date (``Nov 30th, 2026 12:12 AM``)."""
    reset = time.localtime(resets_at)
    clock = time.strftime("%-I:%M %p", reset)
    if time.strftime("%Y-%m-%d", reset) == time.strftime("%Y-%m-%d", time.localtime(now)):
        return clock
    day = reset.tm_mday
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{time.strftime('%b', reset)} {day}{suffix}, {reset.tm_year} {clock}"


class UsageError(Exception):
    """A command line the real CLI would refuse: message on stderr, exit 2."""


def parse_args(argv: list[str]) -> dict[str, Any]:
    if not argv or argv[0] not in ("exec", "e"):
        raise UsageError("fake codex only runs `codex exec`")
    options: dict[str, Any] = {"flags": set(), "positional": [], "resume": None}
    values, flags = EXEC_VALUE_OPTIONS, EXEC_FLAGS
    index = 1
    while index < len(argv):
        arg = argv[index]
        name, _, inline = arg.partition("=")
        if arg == "resume" and options["resume"] is None and not options["positional"]:
            options["resume"] = ""
            values, flags = RESUME_VALUE_OPTIONS, RESUME_FLAGS
        elif name in values:
            if not inline:
                index += 1
                if index >= len(argv):
                    raise UsageError(f"error: a value is required for '{name}'")
                inline = argv[index]
            if name in ("-c", "--config"):
                options.setdefault("overrides", []).append(inline)
            else:
                options[name] = inline
        elif arg in flags:
            options["flags"].add(arg)
        elif arg.startswith("-") and arg != "-":
            raise UsageError(f"error: unexpected argument '{arg}' found")
        elif options["resume"] == "":
            options["resume"] = arg
        else:
            options["positional"].append(arg)
        index += 1
    return options


def codex_home() -> Path:
    configured = os.environ.get("CODEX_HOME")
    return Path(configured) if configured else Path.home() / ".codex"


def find_rollout(thread_id: str, home: Path | None = None) -> Path | None:
    """The thread's rollout file under CODEX_HOME (or ``home``), as the real CLI names it."""
    base = home if home is not None else codex_home()
    found = sorted((base / "sessions").glob(f"*/*/*/rollout-*-{thread_id}.jsonl"))
    return found[-1] if found else None


def new_rollout(thread_id: str) -> Path:
    now = time.gmtime()
    day = codex_home() / "sessions" / time.strftime("%Y/%m/%d", now)
    return day / f"rollout-{time.strftime('%Y-%m-%dT%H-%M-%S', now)}-{thread_id}.jsonl"


def read_config() -> dict[str, Any]:
    try:
        return tomllib.loads((codex_home() / "config.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def session_flags(options: dict[str, Any]) -> dict[str, Any]:
    """The ``-c key=value`` overrides (TOML values, dotted keys) as one table."""
    merged: dict[str, Any] = {}
    for override in options.get("overrides", []):
        key, _, value = override.partition("=")
        try:
            parsed = tomllib.loads(f"{key.strip()} = {value}")
        except tomllib.TOMLDecodeError as error:
            raise UsageError(f"Error parsing -c overrides: {error}") from None
        _merge(merged, parsed)
    return merged


def _merge(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def trusted_hash(snake_event: str, group: dict[str, Any], hook: dict[str, Any]) -> str:
    """What the real CLI compares a hook's ``trusted_hash`` with (see
    crosswalk.runner.providers.codex_hooks)."""
    identity: dict[str, Any] = {
        "event_name": snake_event,
        "hooks": [
            {
                "async": bool(hook.get("async", False)),
                "command": hook.get("command"),
                "timeout": hook.get("timeout", 600),
                "type": hook.get("type", "command"),
            }
        ],
    }
    if "matcher" in group:
        identity["matcher"] = group["matcher"]
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def sandbox_mode(options: dict[str, Any]) -> str:
    flags = options["flags"]
    if "--dangerously-bypass-approvals-and-sandbox" in flags:
        return "danger-full-access"
    if "--full-auto" in flags:
        return "workspace-write"
    return str(options.get("--sandbox", options.get("-s", "read-only")))


class FakeCodex:
    def __init__(self, prompt: str, thread_id: str, rollout: Path, options: dict[str, Any]):
        self.prompt = prompt
        self.thread_id = thread_id
        self.rollout = rollout
        self.cwd = Path.cwd()
        self.sandbox = sandbox_mode(options)
        self.pending_warnings: list[str] = []
        self.config = read_config()
        self.flags = session_flags(options)
        bypass = "--dangerously-bypass-approvals-and-sandbox" in options["flags"]
        never_asks = bypass or self.config.get("approval_policy") == "never"
        self.permission_mode = "bypassPermissions" if never_asks else "default"
        self.hooks = self.trusted_hooks(options["flags"])
        self.seen: list[str] = []
        self.items = 0
        self.last_text = ""
        self.tokens = 0
        self.turn_id = str(uuid.uuid4())

    def emit(self, line: dict[str, Any]) -> None:
        scripts.print_line(line)
        scripts.append_jsonl(self.rollout, line)

    def item(self, item: dict[str, Any], started: bool = False) -> dict[str, Any]:
        item = {"id": f"item_{self.items}", **item}
        self.items += 1
        if started:
            self.emit({"type": "item.started", "item": item})
        return item

    # --- hooks: .codex/hooks.json, run only when trusted --------------------------------
    def trusted_hooks(self, flags: set[str]) -> dict[str, list[dict[str, Any]]]:
        path = self.cwd / ".codex" / "hooks.json"
        configured = hooks.load_hooks([path])
        if {"--trust", "--dangerously-bypass-hook-trust"} <= flags:
            message = (
                "`--dangerously-bypass-hook-trust` is enabled. "
                "Enabled hooks may run without review for this invocation."
            )
            self.pending_warnings.extend([message, message])
            return configured
        states = dict(self.config.get("hooks", {}).get("state", {}))
        session = self.flags.get("hooks", {})
        states.update(session.get("state", {}))
        trusted: dict[str, list[dict[str, Any]]] = {}
        # A project's hooks load only in a trusted project; hooks given with -c (the
        # "session flags" layer) need only their own trust, checked by hash.
        layers = [(str(path), configured, False)]
        session_hooks = {e: g for e, g in session.items() if e in HOOK_EVENTS}
        layers.append((SESSION_FLAGS_SOURCE, session_hooks, True))
        for source, layer, check_hash in layers:
            for event, groups in layer.items():
                snake = HOOK_EVENTS.get(event, event)
                for g, group in enumerate(groups if isinstance(groups, list) else []):
                    kept = []
                    for h, hook in enumerate(group.get("hooks", [])):
                        wanted = states.get(f"{source}:{snake}:{g}:{h}", {}).get("trusted_hash")
                        if wanted and (
                            not check_hash or wanted == trusted_hash(snake, group, hook)
                        ):
                            kept.append(hook)
                    if kept:
                        trusted.setdefault(event, []).append({**group, "hooks": kept})
        return trusted

    def fire(self, event: str, **extra: Any) -> hooks.HookOutcome:
        payload: dict[str, Any] = {"session_id": self.thread_id}
        if event != "SessionStart":
            payload["turn_id"] = self.turn_id
        payload.update(
            transcript_path=str(self.rollout),
            cwd=str(self.cwd),
            hook_event_name=event,
            model=MODEL,
            permission_mode=self.permission_mode,
            **extra,
        )
        outcome = hooks.run_hooks(self.hooks, event, payload, self.cwd, extra.get("tool_name"))
        for context in outcome.context:
            self.see(event, context)
        return outcome

    def see(self, event: str, text: str) -> None:
        self.seen.append(text)
        scripts.record_seen("codex", self.thread_id, event, text)

    # --- the Agent protocol used by scripts.run_steps ------------------------------------
    def prompt_text(self) -> str:
        return self.prompt

    def seen_text(self) -> str:
        return "\n".join(self.seen)

    def text(self, text: str) -> None:
        self.last_text = text
        self.tokens += 10
        self.emit(
            {"type": "item.completed", "item": self.item({"type": "agent_message", "text": text})}
        )

    def write_file(self, path: Path, content: str) -> None:
        target = path if path.is_absolute() else self.cwd / path
        if self.sandbox not in WRITABLE:
            self.shell_result(f"cat > {path}", f"bash: {path}: Read-only file system\n", 1)
            return
        kind = "update" if target.exists() else "add"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        item = self.item({"type": "file_change", "changes": [{"path": str(target), "kind": kind}]})
        self.emit({"type": "item.completed", "item": {**item, "status": "completed"}})

    def shell(self, command: str, timeout: float) -> None:
        started = self.item(
            {
                "type": "command_execution",
                "command": f"/bin/bash -lc {shlex.quote(command)}",
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            },
            started=True,
        )
        output, code = scripts.run_shell(command, self.cwd, timeout)
        self.finish_command(started, output, code, command)

    def shell_result(self, command: str, output: str, code: int) -> None:
        started = self.item(
            {
                "type": "command_execution",
                "command": f"/bin/bash -lc {shlex.quote(command)}",
                "aggregated_output": "",
                "exit_code": None,
                "status": "in_progress",
            },
            started=True,
        )
        self.finish_command(started, output, code, command)

    def finish_command(self, item: dict[str, Any], output: str, code: int, command: str) -> None:
        status = "completed" if code == 0 else "failed"
        done = {**item, "aggregated_output": output, "exit_code": code, "status": status}
        self.emit({"type": "item.completed", "item": done})
        self.tokens += 10
        self.fire(
            "PostToolUse",
            tool_name="Bash",
            tool_input={"command": command},
            tool_response=output,
            tool_use_id=f"call_{uuid.uuid4().hex[:24]}",
        )

    def usage_limit(self, resets_at: int) -> NoReturn:
        self.fail(
            "You\u2019ve hit your usage limit. Visit https://chatgpt.com/settings/usage "
            f"to purchase more credits or try again at {reset_time(resets_at)}."
        )

    def fail(self, message: str) -> NoReturn:
        self.emit({"type": "error", "message": message})
        self.emit({"type": "turn.failed", "error": {"message": message}})
        raise SystemExit(1)

    def crash(self, code: int) -> NoReturn:
        sys.stdout.flush()
        os._exit(code)

    def finish(self, text: str, usage: dict[str, Any] | None = None) -> NoReturn:
        """``usage``: token counts ``turn.completed`` reports instead of the made-up ones."""
        if text != self.last_text:
            self.text(text)
        self.stop()
        tokens = {
            "input_tokens": self.tokens * 10,
            "cached_input_tokens": 0,
            "cache_write_input_tokens": 0,
            "output_tokens": self.tokens,
            "reasoning_output_tokens": 0,
            **(usage or {}),
        }
        self.emit({"type": "turn.completed", "usage": tokens})
        raise SystemExit(0)

    def stop(self) -> None:
        blocks = 0
        while True:
            outcome = self.fire(
                "Stop", stop_hook_active=blocks > 0, last_assistant_message=self.last_text
            )
            if outcome.block_reason is None or blocks >= self.script.max_stop_blocks:
                return
            blocks += 1
            run_id = f"stop:{blocks + 1}:{self.cwd / '.codex' / 'hooks.json'}"
            self.see(
                "Stop", f'<hook_prompt hook_run_id="{run_id}">{outcome.block_reason}</hook_prompt>'
            )
            scripts.run_steps(self, self.script.on_stop_block, self.answered)

    def run(self, script: scripts.Script, run_index: int) -> int:
        """The exit code: the steps end the run by raising SystemExit (or crash at once)."""
        try:
            self.run_to_end(script, run_index)
        except SystemExit as ended:
            return int(ended.code or 0)

    def run_to_end(self, script: scripts.Script, run_index: int) -> NoReturn:
        self.script = script
        self.answered: set[str] = set()
        self.emit({"type": "thread.started", "thread_id": self.thread_id})
        for warning in self.pending_warnings:
            self.emit(
                {"type": "item.completed", "item": self.item({"type": "error", "message": warning})}
            )
        self.emit({"type": "turn.started"})
        self.fire("SessionStart", source="resume" if run_index else "startup")
        scripts.append_jsonl(
            self.rollout, {"type": "fake-run", "run": run_index, "script": script.name}
        )
        scripts.run_steps(self, script.steps_for_run(run_index), self.answered)
        self.finish(self.last_text or "done")


def previous_runs(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if '"fake-run"' in line)


def read_prompt(options: dict[str, Any]) -> str:
    positional = [arg for arg in options["positional"] if arg != "-"]
    prompt = " ".join(positional)
    if not sys.stdin.isatty():
        if positional:
            sys.stderr.write("Reading additional input from stdin...\n")
        extra = sys.stdin.read()
        if extra.strip():
            prompt = f"{prompt}\n\n{extra}" if prompt else extra
    if not prompt.strip():
        raise UsageError(
            "No prompt provided. Either specify one as an argument or pipe it into stdin."
        )
    return prompt


def main(argv: list[str]) -> int:
    try:
        options = parse_args(argv)
        if options["resume"] == "":
            raise UsageError("fake codex: `resume` needs a thread id")
        sandbox = sandbox_mode(options)
        if sandbox not in SANDBOX_MODES:
            raise UsageError(f"error: invalid value '{sandbox}' for '--sandbox <SANDBOX_MODE>'")
        session_flags(options)  # malformed overrides stop the run, as in the real CLI
        prompt = read_prompt(options)
        resumed = options["resume"]
        script = scripts.load_script(
            prompt, scripts.session_script(find_rollout(resumed) if resumed else None)
        )
    except UsageError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    except scripts.ScriptError as error:
        sys.stderr.write(f"fake codex: {error}\n")
        return 2
    resume_id = options["resume"]
    thread_id = resume_id or str(uuid.uuid4())
    rollout = find_rollout(thread_id) if resume_id else None
    run_index = previous_runs(rollout) if rollout else 0
    scripts.record_call(
        "codex", argv, session_id=thread_id, script=script.name, run_index=run_index
    )
    if resume_id and rollout is None:
        sys.stderr.write(
            f"Error: thread/resume: thread/resume failed: no rollout found for thread id "
            f"{resume_id} (code -32600)\n"
        )
        return 1
    return FakeCodex(prompt, thread_id, rollout or new_rollout(thread_id), options).run(
        script, run_index
    )
