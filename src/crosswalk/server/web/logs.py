"""An agent's raw log (JSONL chunks from Claude Code or Codex) as readable entries.

Each line becomes at most a few entries of a kind the page styles: ``text``
(what the assistant said), ``tool`` (a call, with its input shortened), ``result``
(what a tool returned, shortened), ``done`` (the run's result: turns and cost),
``error``, or ``raw`` for a line that is not JSON. Lines with nothing to read
(session start, turn bookkeeping) are skipped. Each run of the agent (a session:
the first, then one per resume) opens with a ``session`` divider. Formats:
docs/dashboard.md.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class LogEntry:
    kind: str
    text: str
    title: str = ""


def render(chunks: Iterable[str]) -> list[LogEntry]:
    """Every readable entry of the chunks, in order (a line may span chunks)."""
    buffer = "".join(chunks)
    return [entry for line in buffer.splitlines() if line.strip() for entry in _line(line)]


def render_sessions(chunks: Iterable[tuple[int, str]]) -> list[LogEntry]:
    """Every readable entry of ``(session number, content)`` chunks in the order they
    were written, each session's entries after a ``session`` divider (``Session 2``)."""
    entries = []
    in_order = sorted(chunks, key=lambda chunk: chunk[0])  # stable: keeps the write order
    for session, group in itertools.groupby(in_order, key=lambda chunk: chunk[0]):
        entries.append(LogEntry("session", "", f"Session {session}"))
        entries += render(content for _, content in group)
    return entries


def newest(entries: list[LogEntry], count: int) -> list[LogEntry]:
    """The last ``count`` entries, still opened by the divider of the session the
    first of them belongs to (so the reader knows which run they come from)."""
    shown = entries[-count:] if count > 0 else []
    if not shown or shown[0].kind == "session" or len(shown) == len(entries):
        return shown
    cut = len(entries) - len(shown)
    divider = next((e for e in reversed(entries[:cut]) if e.kind == "session"), None)
    return shown if divider is None else [divider, *shown]


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + " …"


def _line(line: str) -> Iterator[LogEntry]:
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):  # an agent's output may be anything
        yield LogEntry("raw", _short(line))
        return
    if not isinstance(event, dict):
        yield LogEntry("raw", _short(line))
        return
    kind = event.get("type")
    if kind in ("assistant", "user"):
        yield from _claude_message(event.get("message"))
    elif kind == "result":
        yield _claude_result(event)
    elif kind in ("item.started", "item.completed"):
        yield from _codex_item(event.get("item"), completed=kind == "item.completed")
    elif kind == "error":
        yield LogEntry("error", _short(event.get("message", line)))
    elif kind == "turn.failed":
        error = event.get("error")
        yield LogEntry("error", _short(error.get("message") if isinstance(error, dict) else line))
    elif kind == "rate_limit_event":
        yield LogEntry("error", _short(event.get("rate_limit_info", line)), "rate limit")


def _claude_message(message: Any) -> Iterator[LogEntry]:
    if not isinstance(message, dict):
        return
    content = message.get("content")
    if isinstance(content, str):
        yield LogEntry("text", _short(content))
        return
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        block_type = block.get("type")
        if block_type == "text" and block.get("text"):
            yield LogEntry("text", _short(block["text"]))
        elif block_type == "tool_use":
            yield LogEntry("tool", _short(block.get("input", {})), str(block.get("name", "tool")))
        elif block_type == "tool_result":
            yield LogEntry("result", _short(_tool_result_text(block.get("content"))))


def _tool_result_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _claude_result(event: dict[str, Any]) -> LogEntry:
    facts = []
    if event.get("num_turns") is not None:
        facts.append(f"{event['num_turns']} turns")
    if isinstance(event.get("total_cost_usd"), int | float):
        facts.append(f"${event['total_cost_usd']:.4f}")
    title = "failed" if event.get("is_error") else "finished"
    text = str(event.get("result") or "")
    return LogEntry("error" if event.get("is_error") else "done", _short(text), _join(title, facts))


def _codex_item(item: Any, *, completed: bool) -> Iterator[LogEntry]:
    if not isinstance(item, dict):
        return
    item_type = item.get("type")
    if item_type == "agent_message" and completed:
        yield LogEntry("text", _short(item.get("text", "")))
    elif item_type == "command_execution":
        if not completed:
            yield LogEntry("tool", _short(item.get("command", "")), "command")
        else:
            title = f"exit {item.get('exit_code')}"
            yield LogEntry("result", _short(item.get("aggregated_output", "")), title)
    elif item_type == "error" and completed:
        yield LogEntry("error", _short(item.get("message", "")))


def _join(title: str, facts: list[str]) -> str:
    return f"{title} ({', '.join(facts)})" if facts else title
