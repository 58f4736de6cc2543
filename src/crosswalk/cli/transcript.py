"""Agent output (Claude Code stream-json, Codex exec JSONL) as lines a person reads:
assistant text, tool calls and their results, one line each.

Lines that are not JSON, or events this does not know, are shown as they are or
skipped; nothing here fails on odd input. Standard library only.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

WIDTH = 200


def one_line(text: Any, width: int = WIDTH) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_lines(content: str) -> Iterator[str]:
    """The readable lines of a chunk of JSONL."""
    for raw in content.splitlines():
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            yield one_line(raw)
            continue
        kind = event.get("type") if isinstance(event, dict) else None
        if kind in _CLAUDE_EVENTS:
            yield from _claude(event)
        elif isinstance(kind, str) and kind.split(".")[0] in _CODEX_EVENTS:
            yield from _codex(event)
        else:
            yield one_line(raw)


_CLAUDE_EVENTS = frozenset({"system", "assistant", "user", "result", "rate_limit_event"})
_CODEX_EVENTS = frozenset({"thread", "turn", "item", "error"})


def _claude(event: dict[str, Any]) -> Iterator[str]:
    kind = event.get("type")
    if kind == "system" and event.get("subtype") == "init":
        session = f"session {event['session_id']}" if event.get("session_id") else "session"
        yield f"{session} started ({event.get('model') or 'model ?'})"
    elif kind in ("assistant", "user"):
        message = event.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            if isinstance(block, dict):
                yield from _block(block)
    elif kind == "rate_limit_event":
        info = event.get("rate_limit_info")
        yield _rate_limit(info if isinstance(info, dict) else {})
    elif kind == "result":
        label = "error" if event.get("is_error") else event.get("subtype", "result")
        yield f"result ({label}): {one_line(event.get('result', ''))}"


def _rate_limit(info: dict[str, Any]) -> str:
    """``rate limit: rejected (resets at 2026-05-01 18:42 UTC)``; only what the CLI said."""
    line = f"rate limit: {info.get('status') or 'reported'}"
    resets = info.get("resetsAt")
    if isinstance(resets, int | float) and not isinstance(resets, bool):
        from datetime import UTC, datetime

        try:
            return line + f" (resets at {datetime.fromtimestamp(resets, UTC):%Y-%m-%d %H:%M} UTC)"
        except (OverflowError, OSError, ValueError):
            pass
    return line + (f" (resets at {resets})" if isinstance(resets, str) and resets else "")


def _block(block: dict[str, Any]) -> Iterator[str]:
    kind = block.get("type")
    if kind == "text" and str(block.get("text", "")).strip():
        yield f"assistant: {one_line(block['text'])}"
    elif kind == "tool_use":
        tool_input = block.get("input")
        shown = tool_input.get("command") if isinstance(tool_input, dict) else None
        yield f"tool {block.get('name') or '?'}: {one_line(shown or json.dumps(tool_input))}"
    elif kind == "tool_result":
        content = block.get("content")
        if isinstance(content, list):
            content = " ".join(
                str(part.get("text", "")) for part in content if isinstance(part, dict)
            )
        error = " (error)" if block.get("is_error") else ""
        yield f"tool result{error}: {one_line(content or '')}"


def _codex(event: dict[str, Any]) -> Iterator[str]:
    kind = event.get("type")
    if kind == "thread.started":
        yield f"thread {event['thread_id']} started" if event.get("thread_id") else "thread started"
    elif kind == "item.completed":
        item = event.get("item") or {}
        item_kind = item.get("type")
        if item_kind == "agent_message":
            yield f"assistant: {one_line(item.get('text', ''))}"
        elif item_kind == "command_execution":
            yield f"tool exec: {one_line(item.get('command', ''))}"
            output = one_line(item.get("aggregated_output", ""))
            code = item.get("exit_code")
            yield (
                f"tool result (exit {code}): {output}"
                if code is not None
                else f"tool result: {output}"
            )
        elif item_kind == "error":
            yield f"error: {one_line(item.get('message', ''))}"
    elif kind == "turn.completed":
        yield "turn completed"
    elif kind == "turn.failed":
        error = event.get("error") or {}
        yield f"turn failed: {one_line(error.get('message', ''))}"
    elif kind == "error":
        yield f"error: {one_line(event.get('message', ''))}"
