"""A fake `claude` CLI: speaks Claude Code's stream-json, scripted per test.

``claude -p PROMPT --output-format stream-json --verbose [--resume ID]
[--permission-mode M | --dangerously-skip-permissions]``. What it does is read from a script
(see scripts.py); how it says it mirrors the real CLI (docs in tests/agents/README.md).

Standard library only: launched by tests/agents/bin/claude with a plain ``python3``.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any, NoReturn

from tests.agents import hooks, scripts

VERSION = "2.1.332"
MODEL = "claude-opus-5-5"
TOOLS = ["Task", "Bash", "Edit", "Read", "WebFetch", "WebSearch", "Write"]
VALUE_OPTIONS = {
    "--output-format",
    "--input-format",
    "--resume",
    "-r",
    "--permission-mode",
    "--model",
    "--allowedTools",
    "--allowed-tools",
    "--disallowedTools",
    "--disallowed-tools",
    "--append-system-prompt",
    "--system-prompt",
    "--max-turns",
    "--settings",
    "--add-dir",
    "--mcp-config",
    "--session-id",
    "--fallback-model",
}
FLAGS = {
    "-p",
    "--print",
    "--verbose",
    "--dangerously-skip-permissions",
    "--include-partial-messages",
    "--continue",
    "-c",
    "--strict-mcp-config",
}
DAY_S = 86400
PERMISSION_MODES = {"default", "acceptEdits", "bypassPermissions", "plan", "dontAsk"}
ZERO_USAGE = {
    "input_tokens": 0,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 0,
    "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
    "service_tier": "standard",
}


def timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def reset_time(resets_at: int) -> str:
    """As the real CLI words it: `7:59pm (UTC)`, a day ahead `Nov 30, 11:59pm (UTC)`,
    another year `Jun 17, 2027, 5:59pm (UTC)`; on the hour without minutes, `9pm (UTC)`
    (the machine's zone is UTC in tests)."""
    moment = time.gmtime(resets_at)
    clock = time.strftime("%-I%p" if moment.tm_min == 0 else "%-I:%M%p", moment).lower()
    if resets_at - time.time() <= DAY_S:
        return f"{clock} (UTC)"
    year = f", {moment.tm_year}" if moment.tm_year != time.gmtime().tm_year else ""
    return f"{time.strftime('%b %-d', moment)}{year}, {clock} (UTC)"


class UsageError(Exception):
    """A command line the real CLI would refuse: message on stderr, exit 1."""


def parse_args(argv: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"flags": set(), "positional": []}
    index = 0
    while index < len(argv):
        arg = argv[index]
        name, _, inline = arg.partition("=")
        if name in VALUE_OPTIONS:
            if inline:
                options[name] = inline
            elif index + 1 < len(argv):
                index += 1
                options[name] = argv[index]
            else:
                raise UsageError(f"error: option '{name} <value>' argument missing")
        elif arg in FLAGS:
            options["flags"].add(arg)
        elif arg.startswith("-"):
            raise UsageError(f"error: unknown option '{arg}'")
        else:
            options["positional"].append(arg)
        index += 1
    return options


def config_dir() -> Path:
    configured = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(configured) if configured else Path.home() / ".claude"


def project_dir_name(cwd: Path) -> str:
    """Claude Code's name for a project's transcript directory: the path, non-alnum as '-'."""
    return re.sub(r"[^A-Za-z0-9]", "-", str(cwd))


def transcript_path(cwd: Path, session_id: str, config: Path | None = None) -> Path:
    """Where Claude Code keeps a session's transcript (config: the config dir to look in)."""
    base = config if config is not None else config_dir()
    return base / "projects" / project_dir_name(cwd) / f"{session_id}.jsonl"


class FakeClaude:
    def __init__(self, prompt: str, session_id: str, permission_mode: str, resumed: bool):
        self.prompt = prompt
        self.session_id = session_id
        self.permission_mode = permission_mode
        self.resumed = resumed
        self.cwd = Path.cwd()
        self.transcript = transcript_path(self.cwd, session_id)
        self.hooks = hooks.load_hooks(
            [self.cwd / ".claude" / "settings.json", self.cwd / ".claude" / "settings.local.json"]
        )
        self.seen: list[str] = []
        self.turns = 0
        self.last_text = ""
        self.started = time.monotonic()
        self.prompt_id = str(uuid.uuid4())

    # --- output -------------------------------------------------------------------------
    def emit(self, line: dict[str, Any]) -> None:
        scripts.print_line(line)
        scripts.append_jsonl(self.transcript, line)

    def assistant(self, content: list[dict[str, Any]], **extra: Any) -> None:
        self.turns += 1
        message = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": ZERO_USAGE,
            "context_management": None,
        }
        self.emit(
            {
                "type": "assistant",
                "message": message,
                "parent_tool_use_id": None,
                "session_id": self.session_id,
                "uuid": str(uuid.uuid4()),
                "timestamp": timestamp(),
                **extra,
            }
        )

    def tool_result(self, tool_use_id: str, output: str, is_error: bool, raw: Any) -> None:
        self.emit(
            {
                "type": "user",
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "tool_use_id": tool_use_id,
                            "type": "tool_result",
                            "content": output,
                            "is_error": is_error,
                        }
                    ],
                },
                "parent_tool_use_id": None,
                "session_id": self.session_id,
                "uuid": str(uuid.uuid4()),
                "timestamp": timestamp(),
                "tool_use_result": raw,
                "tool_result_meta": [
                    {
                        "id": tool_use_id,
                        "permission_decision": {
                            "decision": "accept",
                            "source": "config",
                            "reason_type": "mode",
                        },
                    }
                ],
            }
        )

    def result(self, text: str, *, is_error: bool, subtype: str = "success", **extra: Any) -> None:
        self.emit(
            {
                "duration_api_ms": 0,
                "stop_reason": "end_turn",
                "session_id": self.session_id,
                "total_cost_usd": 0.0,
                "usage": ZERO_USAGE,
                "modelUsage": {},
                "permission_denials": [],
                "terminal_reason": "completed",
                "fast_mode_state": "off",
                "fast_mode_disabled_reason": "sdk_opt_in_required",
                "subagent_stats": {"spawned": 0, "completed": 0, "failed": 0},
                "safety_stops": 0,
                "is_error": is_error,
                "num_turns": self.turns,
                "subtype": subtype,
                "api_error_status": None,
                "result": text,
                "ttft_ms": 0,
                "type": "result",
                "duration_ms": int((time.monotonic() - self.started) * 1000),
                "uuid": str(uuid.uuid4()),
                "ttft_stream_ms": 0,
                "time_to_request_ms": 0,
                "first_content_frame_ms": 0,
                "queued_turn_count": 0,
                "result_index": 0,
                "model_usage_since_last_result": {},
                **extra,
            }
        )

    # --- hooks --------------------------------------------------------------------------
    def hook_payload(self, event: str, **extra: Any) -> dict[str, Any]:
        """The event JSON a hook reads, with the keys the real 2.1.332 sends for each event."""
        payload: dict[str, Any] = {
            "session_id": self.session_id,
            "transcript_path": str(self.transcript),
            "cwd": str(self.cwd),
        }
        if event != "SessionStart":
            payload["prompt_id"] = self.prompt_id
            payload["permission_mode"] = self.permission_mode
            payload["effort"] = {"level": "medium"}
        payload["hook_event_name"] = event
        payload.update(extra)
        return payload

    def fire(self, event: str, tool_name: str | None = None, **extra: Any) -> hooks.HookOutcome:
        payload = self.hook_payload(event, **extra)
        if tool_name is not None:
            payload["tool_name"] = tool_name
        outcome = hooks.run_hooks(self.hooks, event, payload, self.cwd, tool_name)
        if event == "SessionStart":
            self.report_hook_runs(f"SessionStart:{extra['source']}", outcome.runs)
        for context in outcome.context:
            self.see(event, context)
            self.show_context(event, context, tool_name)
        return outcome

    def report_hook_runs(self, name: str, runs: list[hooks.CommandRun]) -> None:
        """The real CLI reports SessionStart hooks in the stream; other events it does not."""
        for run in runs:
            common = {"hook_id": str(uuid.uuid4()), "hook_name": name, "hook_event": "SessionStart"}
            self.emit({"type": "system", "subtype": "hook_started", **common, **self.ids()})
            outcome = "success" if run.exit_code == 0 else "error"
            output = {"output": run.stdout + run.stderr, "stdout": run.stdout}
            output.update(stderr=run.stderr, exit_code=run.exit_code, outcome=outcome)
            self.emit(
                {"type": "system", "subtype": "hook_response", **common, **output, **self.ids()}
            )

    def ids(self) -> dict[str, str]:
        return {"uuid": str(uuid.uuid4()), "session_id": self.session_id}

    def see(self, event: str, text: str) -> None:
        self.seen.append(text)
        scripts.record_seen("claude", self.session_id, event, text)

    def show_context(self, event: str, text: str, tool_name: str | None) -> None:
        """Fake only: the real CLI sends hook context to the model but prints no line for it."""
        label = f"{event}:{tool_name}" if tool_name else event
        self.emit(
            {
                "type": "system",
                "subtype": "hook_additional_context",
                "hook_event_name": event,
                "content": f"{label} hook additional context: {text}",
                "session_id": self.session_id,
                "uuid": str(uuid.uuid4()),
            }
        )

    # --- the Agent protocol used by scripts.run_steps ------------------------------------
    def prompt_text(self) -> str:
        return self.prompt

    def seen_text(self) -> str:
        return "\n".join(self.seen)

    def text(self, text: str) -> None:
        self.last_text = text
        self.assistant([{"type": "text", "text": text}])

    def tool(self, name: str, tool_input: dict[str, Any], output: str, ok: bool, raw: Any) -> None:
        tool_use_id = f"toolu_{uuid.uuid4().hex[:24]}"
        self.assistant([{"type": "tool_use", "id": tool_use_id, "name": name, "input": tool_input}])
        self.tool_result(tool_use_id, output, not ok, raw)
        self.fire(
            "PostToolUse",
            tool_name=name,
            tool_input=tool_input,
            tool_response=raw,
            tool_use_id=tool_use_id,
            duration_ms=0,
        )

    def write_file(self, path: Path, content: str) -> None:
        target = path if path.is_absolute() else self.cwd / path
        target.parent.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        target.write_text(content)
        message = f"File {'updated' if existed else 'created'} successfully at: {target}"
        raw = {"type": "update" if existed else "create", "filePath": str(target)}
        raw["content"] = content
        self.tool("Write", {"file_path": str(target), "content": content}, message, True, raw)

    def shell(self, command: str, timeout: float) -> None:
        output, code = scripts.run_shell(command, self.cwd, timeout)
        output = output.rstrip("\n")
        raw = {"stdout": output, "stderr": "", "interrupted": False, "isImage": False}
        raw["noOutputExpected"] = False
        shown = output if code == 0 else f"Exit code {code}\n{output}"
        self.tool("Bash", {"command": command, "description": command[:60]}, shown, code == 0, raw)

    def usage_limit(self, resets_at: int) -> NoReturn:
        self.emit(
            {
                "type": "rate_limit_event",
                "rate_limit_info": {
                    "status": "rejected",
                    "resetsAt": resets_at,
                    "rateLimitType": "five_hour",
                    "isUsingOverage": False,
                },
                "uuid": str(uuid.uuid4()),
                "session_id": self.session_id,
            }
        )
        text = f"You've hit your 5-hour limit · resets {reset_time(resets_at)}"
        self.assistant([{"type": "text", "text": text}], error="rate_limit")
        self.result(text, is_error=True, api_error_status=429, terminal_reason="api_error")
        raise SystemExit(1)

    def crash(self, code: int) -> NoReturn:
        sys.stdout.flush()
        os._exit(code)

    def finish(self, text: str, usage: dict[str, Any] | None = None) -> NoReturn:
        """``usage``: what the result line reports, ``total_cost_usd`` and the token
        counts of its ``usage`` (zero when not given)."""
        self.stop()
        reported = dict(usage or {})
        cost = reported.pop("total_cost_usd", 0.0)
        self.result(text, is_error=False, total_cost_usd=cost, usage={**ZERO_USAGE, **reported})
        raise SystemExit(0)

    def stop(self) -> None:
        """Stop hooks: a block makes the agent run on_stop_block, then try again (bounded)."""
        blocks = 0
        while True:
            outcome = self.fire(
                "Stop",
                stop_hook_active=blocks > 0,
                last_assistant_message=self.last_text,
                background_tasks=[],
                session_crons=[],
            )
            if outcome.block_reason is None or blocks >= self.script.max_stop_blocks:
                return
            blocks += 1
            self.see("Stop", outcome.block_reason)
            self.emit(
                {
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": f"Stop hook feedback:\n{outcome.block_reason}"}
                        ],
                    },
                    "parent_tool_use_id": None,
                    **self.ids(),
                    "timestamp": timestamp(),
                    "isSynthetic": True,
                }
            )
            self.emit(
                {
                    "type": "system",
                    "subtype": "notification",
                    "key": "stop-hook-error",
                    "text": "stop hook problem · ctrl+o to see",
                    "priority": "immediate",
                    **self.ids(),
                }
            )
            scripts.run_steps(self, self.script.on_stop_block, self.answered)

    # --- a whole run --------------------------------------------------------------------
    def run(self, script: scripts.Script, run_index: int) -> int:
        """The exit code: the steps end the run by raising SystemExit (or crash at once)."""
        try:
            self.run_to_end(script, run_index)
        except SystemExit as ended:
            return int(ended.code or 0)

    def run_to_end(self, script: scripts.Script, run_index: int) -> NoReturn:
        self.script = script
        self.answered: set[str] = set()
        self.fire("SessionStart", source="resume" if self.resumed else "startup")
        self.emit(self.init_line())
        self.fire("UserPromptSubmit", prompt=self.prompt)
        scripts.append_jsonl(
            self.transcript, {"type": "fake-run", "run": run_index, "script": script.name}
        )
        scripts.run_steps(self, script.steps_for_run(run_index), self.answered)
        self.finish(self.last_text or "done")

    def init_line(self) -> dict[str, Any]:
        key_source = "ANTHROPIC_API_KEY" if os.environ.get("ANTHROPIC_API_KEY") else "none"
        return {
            "type": "system",
            "subtype": "init",
            "cwd": str(self.cwd),
            "session_id": self.session_id,
            "tools": TOOLS,
            "mcp_servers": [],
            "model": MODEL,
            "permissionMode": self.permission_mode,
            "slash_commands": [],
            "terminal_slash_commands": [],
            "apiKeySource": key_source,
            "claude_code_version": VERSION,
            "output_style": "default",
            "agents": [],
            "skills": [],
            "plugins": [],
            "capabilities": [],
            "analytics_disabled": True,
            "product_feedback_disabled": True,
            "served_by_anthropic": False,
            "uuid": str(uuid.uuid4()),
            "sandbox_enabled": False,
            "memory_paths": {"auto": str(self.transcript.parent / "memory") + "/"},
            "original_cwd": str(self.cwd),
            "additional_directories": [],
            "messaging_socket_path": f"/tmp/cc-socks/{os.getpid()}.sock",
            "fast_mode_state": "off",
            "fast_mode_disabled_reason": "sdk_opt_in_required",
            "per_turn_effort_active": True,
            "ultrathink_available": False,
            "ultrathink_typed_raises": False,
            "view_mode": "default",
        }


def previous_runs(path: Path) -> int:
    if not path.exists():
        return 0
    count = 0
    for line in path.read_text().splitlines():
        if '"fake-run"' in line:
            count += 1
    return count


def fail_resume(session_id: str) -> NoReturn:
    """What the real CLI prints when --resume finds no transcript under its config dir."""
    message = f"No conversation found with session ID: {session_id}"
    line = {
        "type": "result",
        "subtype": "error_during_execution",
        "duration_ms": 0,
        "duration_api_ms": 0,
        "is_error": True,
        "num_turns": 0,
        "session_id": str(uuid.uuid4()),
        "total_cost_usd": 0,
        "usage": ZERO_USAGE,
        "modelUsage": {},
        "permission_denials": [],
        "errors": [message],
        "stop_reason": None,
        "result_index": 0,
        "uuid": str(uuid.uuid4()),
    }
    scripts.print_line(line)
    raise SystemExit(1)


def main(argv: list[str]) -> int:
    try:
        options = parse_args(argv)
        prompt = validate(options)
        resumed = options.get("--resume") or options.get("-r")
        ran = scripts.session_script(transcript_path(Path.cwd(), resumed) if resumed else None)
        script = scripts.load_script(prompt, ran)
    except UsageError as error:
        sys.stderr.write(f"{error}\n")
        return 1
    except scripts.ScriptError as error:
        sys.stderr.write(f"fake claude: {error}\n")
        return 2
    resume_id = options.get("--resume") or options.get("-r")
    cwd = Path.cwd()
    session_id = resume_id or str(uuid.uuid4())
    run_index = previous_runs(transcript_path(cwd, session_id)) if resume_id else 0
    scripts.record_call(
        "claude", argv, session_id=session_id, script=script.name, run_index=run_index
    )
    if resume_id and run_index == 0:
        fail_resume(resume_id)
    mode = options.get("--permission-mode", "default")
    if "--dangerously-skip-permissions" in options["flags"]:
        mode = "bypassPermissions"
    return FakeClaude(prompt, session_id, mode, bool(resume_id)).run(script, run_index)


def validate(options: dict[str, Any]) -> str:
    if not {"-p", "--print"} & options["flags"]:
        raise UsageError("fake claude only runs headless: pass -p/--print")
    if options.get("--output-format") != "stream-json":
        raise UsageError("fake claude only speaks --output-format stream-json")
    if "--verbose" not in options["flags"]:
        raise UsageError(
            "Error: When using --print, --output-format=stream-json requires --verbose"
        )
    mode = options.get("--permission-mode", "default")
    if mode not in PERMISSION_MODES:
        raise UsageError(
            f"error: option '--permission-mode <mode>' argument '{mode}' is invalid. "
            f"Allowed choices are {', '.join(sorted(PERMISSION_MODES))}."
        )
    bypass = mode == "bypassPermissions" or "--dangerously-skip-permissions" in options["flags"]
    if bypass and os.geteuid() == 0 and os.environ.get("IS_SANDBOX") != "1":
        raise UsageError(
            "--dangerously-skip-permissions cannot be used with root/sudo privileges "
            "for security reasons"
        )
    if not options["positional"]:
        stdin = sys.stdin.read() if not sys.stdin.isatty() else ""
        if not stdin.strip():
            raise UsageError(
                "Error: Input must be provided either through stdin or as a prompt argument "
                "when using --print"
            )
        return stdin
    return " ".join(options["positional"])
