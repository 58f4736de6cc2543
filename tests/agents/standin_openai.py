"""A stand-in for the OpenAI Responses API, enough to drive the real Codex CLI offline.

It answers ``POST /v1/responses`` (``"stream": true``) as server-sent events
(response.created, response.output_item.added, response.output_text.delta,
response.output_item.done, response.completed with usage), taking each answer from a
scripted list of turns: text (a ``message``) or a shell command (an ``exec_command``
function call). Every request is recorded; accounts are told apart by the bearer token, and
an account can be made to hit its usage limit (429 ``usage_limit_reached`` with
``resets_at``).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tests.agents.standin_anthropic import Turn, bash, text
from tests.agents.standin_http import RecordedRequest, Reply, StandinServer

__all__ = ["OpenAIStandin", "Turn", "bash", "text"]


class OpenAIStandin(StandinServer):
    def __init__(self) -> None:
        super().__init__()
        self.turns: list[Turn] = []
        self.usage_limits: dict[str, int] = {}

    def script(self, *turns: Turn) -> None:
        self.turns.extend(turns)

    def hit_usage_limit(self, credential: str, resets_at: int | None = None) -> int:
        reset = resets_at if resets_at is not None else int(time.time()) + 3600
        self.usage_limits[credential] = reset
        return reset

    def response_requests(self) -> list[RecordedRequest]:
        return [
            r for r in self.requests if r.method == "POST" and r.path.startswith("/v1/responses")
        ]

    def respond(self, request: RecordedRequest) -> Reply:
        if request.method != "POST" or not request.path.startswith("/v1/responses"):
            return Reply(
                status=404, json_body={"error": {"type": "not_found", "message": "not found"}}
            )
        credential = request.credential or ""
        if credential in self.usage_limits:
            reset = self.usage_limits[credential]
            return Reply(
                status=429,
                json_body={
                    "error": {
                        "type": "usage_limit_reached",
                        "message": "The usage limit has been reached",
                        "plan_type": "pro",
                        "resets_at": reset,
                        "resets_in_seconds": max(0, reset - int(time.time())),
                    }
                },
            )
        body = request.body if isinstance(request.body, dict) else {}
        turn = self.turns.pop(0) if body.get("tools") and self.turns else Turn(text="done")
        return response_reply(turn, str(body.get("model", "gpt-5-codex")))


def response_reply(turn: Turn, model: str) -> Reply:
    response_id = f"resp_{uuid.uuid4().hex}"
    items: list[dict[str, Any]] = []
    if turn.text:
        items.append(
            {
                "type": "message",
                "id": f"msg_{uuid.uuid4().hex}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn.text, "annotations": []}],
            }
        )
    if turn.command is not None:
        items.append(
            {
                "type": "function_call",
                "id": f"fc_{uuid.uuid4().hex}",
                "call_id": f"call_{uuid.uuid4().hex[:24]}",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": turn.command}),
                "status": "completed",
            }
        )
    base = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model}
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "response.created",
            {
                "type": "response.created",
                "response": {**base, "status": "in_progress", "output": []},
            },
        )
    ]
    for index, item in enumerate(items):
        events.append(
            (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": index, "item": item},
            )
        )
        if item["type"] == "message":
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "item_id": item["id"],
                        "output_index": index,
                        "content_index": 0,
                        "delta": turn.text,
                    },
                )
            )
        events.append(
            (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": index, "item": item},
            )
        )
    usage = {
        "input_tokens": 100,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": 20,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 120,
    }
    events.append(
        (
            "response.completed",
            {
                "type": "response.completed",
                "response": {**base, "status": "completed", "output": items, "usage": usage},
            },
        )
    )
    return Reply(events=events)


def texts_in(body: Any) -> list[str]:
    """Every piece of text a request sends the model: instructions, inputs, tool outputs."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in ("text", "content", "input", "instructions", "output"):
                if key in value:
                    walk(value[key])

    walk(body)
    return found
