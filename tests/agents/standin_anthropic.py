"""A stand-in for the Anthropic Messages API, enough to drive the real Claude Code offline.

It answers ``POST /v1/messages`` with ``"stream": true`` as server-sent events
(message_start, content_block_start/delta/stop per block, message_delta, message_stop),
taking each answer from a scripted list of turns: text, or a tool_use (Bash, or any tool
by name, such as ToolSearch and an MCP server's tools). Requests that
offer no tools (Claude Code's side requests, e.g. titles) get a short text and consume no
turn. Every request is recorded; accounts are told apart by x-api-key or bearer token, and
an account can be made to hit its subscription limit (429 with the unified rate-limit
headers) or a plain rate limit.
"""

from __future__ import annotations

import json
import re
import shlex
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.agents.standin_http import RecordedRequest, Reply, StandinServer

MODEL = "claude-sonnet-4-5-20250929"


@dataclass
class Turn:
    """One model answer: ``text`` (ends the turn) and/or a tool_use: a Bash ``command``,
    or any tool by ``tool`` name with its ``input``. ``answer``: a Bash command that
    answers, with that text, every question whose answer command (``cw answer ID "YOUR
    ANSWER"``) the request showed the model, as a model would."""

    text: str = ""
    command: str | None = None
    tool: str | None = None
    input: dict[str, Any] | None = None
    answer: str | None = None


def text(value: str) -> Turn:
    return Turn(text=value)


def bash(command: str) -> Turn:
    return Turn(command=command)


def tool(name: str, input: dict[str, Any]) -> Turn:
    """A call of any tool, e.g. ``ToolSearch`` or an MCP server's ``mcp__<server>__<tool>``."""
    return Turn(tool=name, input=input)


def load_tools(*names: str) -> Turn:
    """What a model does before calling deferred tools (MCP ones, in Claude Code 2.1.332):
    ``ToolSearch`` with ``select:`` and their names."""
    return tool("ToolSearch", {"query": "select:" + ",".join(names), "max_results": len(names)})


def answer_asked(value: str) -> Turn:
    return Turn(answer=value)


_ANSWER_COMMAND = re.compile(r'cw answer (?:-- )?(\S+) "YOUR ANSWER"')


def _answering(turn: Turn, body: Any) -> Turn:
    """``turn`` with the command that answers what the request asked (see ``Turn``)."""
    if turn.answer is None:
        return turn
    ids: list[str] = []
    for found in _ANSWER_COMMAND.finditer("\n".join(texts_in(body))):
        if found.group(1) not in ids:
            ids.append(found.group(1))
    quoted = shlex.quote(turn.answer)
    command = " && ".join(f"cw answer -- {cid} {quoted}" for cid in ids) or "true"
    return Turn(text=turn.text, command=command)


class AnthropicStandin(StandinServer):
    def __init__(self) -> None:
        super().__init__()
        self.turns: list[Turn] = []
        self.subscription_limits: dict[str, int] = {}
        self.plain_limits: set[str] = set()

    def script(self, *turns: Turn) -> None:
        self.turns.extend(turns)

    def hit_subscription_limit(self, credential: str, resets_at: int | None = None) -> int:
        """Requests from this account now get a 429 saying the 5-hour limit resets then."""
        reset = resets_at if resets_at is not None else int(time.time()) + 3600
        self.subscription_limits[credential] = reset
        return reset

    def hit_rate_limit(self, credential: str) -> None:
        self.plain_limits.add(credential)

    def message_requests(self) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.method == "POST" and r.path.startswith("/v1/messages?")
        ]

    def conversation_requests(self) -> list[RecordedRequest]:
        """The requests of the agent's own conversation (they offer tools)."""
        return [r for r in self.message_requests() if offers_tools(r.body)]

    def respond(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or not request.path.startswith("/v1/messages"):
            return Reply(
                status=404,
                json_body={
                    "type": "error",
                    "error": {"type": "not_found_error", "message": "not found"},
                },
            )
        if request.path.startswith("/v1/messages/count_tokens"):
            return Reply(json_body={"input_tokens": 100})
        credential = request.credential or ""
        if credential in self.subscription_limits:
            return subscription_limit_reply(self.subscription_limits[credential])
        if credential in self.plain_limits:
            return error_reply(
                429, "rate_limit_error", "Number of request tokens has exceeded your rate limit"
            )
        body = request.body if isinstance(request.body, dict) else {}
        if offers_tools(body) and self.turns:
            turn = _answering(self.turns.pop(0), body)
        else:
            turn = Turn(text="ok" if not offers_tools(body) else "done")
        return message_reply(turn, str(body.get("model", MODEL)), bool(body.get("stream")))


def offers_tools(body: Any) -> bool:
    return isinstance(body, dict) and bool(body.get("tools"))


def error_reply(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return Reply(
        status=status,
        headers={"x-should-retry": "false", **(headers or {})},
        json_body={"type": "error", "error": {"type": kind, "message": message}},
    )


def subscription_limit_reply(resets_at: int) -> Reply:
    reset = str(resets_at)
    return error_reply(
        429,
        "rate_limit_error",
        "This request would exceed your account's rate limit. Please try again later.",
        {
            "anthropic-ratelimit-unified-status": "rejected",
            "anthropic-ratelimit-unified-reset": reset,
            "anthropic-ratelimit-unified-representative-claim": "five_hour",
            "anthropic-ratelimit-unified-5h-status": "rejected",
            "anthropic-ratelimit-unified-5h-reset": reset,
            "anthropic-ratelimit-unified-fallback": "not_available",
        },
    )


def message_reply(turn: Turn, model: str, stream: bool) -> Reply:
    blocks: list[dict[str, Any]] = []
    if turn.text:
        blocks.append({"type": "text", "text": turn.text})
    called: tuple[str, dict[str, Any]] | None = None
    if turn.command is not None:
        called = ("Bash", {"command": turn.command, "description": "Run a command"})
    elif turn.tool is not None:
        called = (turn.tool, turn.input or {})
    if called is not None:
        blocks.append(
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": called[0],
                "input": called[1],
            }
        )
    stop_reason = "tool_use" if called is not None else "end_turn"
    usage = {
        "input_tokens": 100,
        "output_tokens": 20,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    message = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "stop_sequence": None,
    }
    if not stream:
        return Reply(
            json_body={**message, "content": blocks, "stop_reason": stop_reason, "usage": usage}
        )
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    **message,
                    "content": [],
                    "stop_reason": None,
                    "usage": {**usage, "output_tokens": 1},
                },
            },
        )
    ]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return Reply(events=events)


def texts_in(body: Any) -> list[str]:
    """Every piece of text a request sends the model: system, messages, tool results."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in ("text", "content", "system", "messages"):
                if key in value:
                    walk(value[key])

    walk(body)
    return found
