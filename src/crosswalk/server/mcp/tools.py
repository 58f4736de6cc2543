"""The MCP tools: what each says to the model, its JSON schema, and what it does.

A tool acts as the agent whose token came with the request: it calls the same tRPC
procedures ``cw`` would, in process (``TrpcEndpoint.call``), so the same rules authorise
it and the same refusals come back. A waiting ``ask`` or ``wait`` awaits the procedure's
long poll on the event loop, holding no thread. What fails reads as ``cw`` prints it on
stderr for the same request, ``error: ...`` and, when there is something to do,
``hint: ...`` (``crosswalk.refusals``). No MCP SDK here: ``sdk`` turns a
``ToolResult`` into the protocol's.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shlex
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crosswalk.ids import new_id
from crosswalk.refusals import (
    PHASE_CONFLICT_HINT,
    UNANSWERABLE_HINT,
    file_conflict_hint,
    refusal_hint,
)
from crosswalk.server.trpc.errors import TrpcError
from crosswalk.visible import fenced, one_line, visible

logger = logging.getLogger("crosswalk.server")

#: Seconds an ``ask`` or ``wait`` waits by default (``cw ask``'s default).
DEFAULT_TIMEOUT_S = 600.0
#: The longest one long poll may be asked to hold (the procedures' ``timeoutMs`` bound).
LONG_POLL_S = 600.0
#: Pages ``pending`` reads at most (each up to the server's CW_PAGE_SIZE).
MAX_PAGES = 100
#: The statuses of agents that can still answer a question.
ACTIVE = ("idle", "running", "waiting_for_input")

_TIMEOUT_S = {
    "type": "number",
    "minimum": 0,
    "description": (
        f"Seconds to wait for the answer (default {DEFAULT_TIMEOUT_S:g}). When it passes "
        "the question stays open and the result says how to wait again."
    ),
}

#: name -> (description, input schema), in the order ``tools/list`` gives them.
TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "ask": (
        "Ask another coding agent working beside you, or the person running crosswalk, a "
        "question, and wait for the answer. Name exactly one addressee: `agent` (a name "
        "or id), `task` (whoever works on that task), `phase` (the one other agent in that "
        "phase), `file` (whoever changed that file; `line` narrows it) or `user: true` (the "
        "person). The addressee does not see your conversation: make the question "
        "self-contained. Returns the answer; if none comes within `timeoutS` the question "
        "stays open and the result gives its id for `wait`. `whoami` lists your peers.",
        {
            "type": "object",
            "properties": {
                "question": {"type": "string", "description": "The question."},
                "agent": {"type": "string", "description": "Ask this agent (name or id)."},
                "task": {"type": "string", "description": "Ask the agent working on this task."},
                "phase": {
                    "type": "string",
                    "description": "Ask the one other agent working in this phase.",
                },
                "file": {
                    "type": "string",
                    "description": "Ask the agent whose work changed this file "
                    "(path relative to the repository root).",
                },
                "line": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "With `file`: the line whose change you ask about.",
                },
                "user": {
                    "type": "boolean",
                    "description": "true: ask the person running crosswalk.",
                },
                "timeoutS": _TIMEOUT_S,
            },
            "required": ["question"],
            "additionalProperties": False,
        },
    ),
    "pending": (
        "List the questions other agents asked you that still wait for your answer, oldest "
        "first, each with its conversation id, the asker and its task. The askers are "
        "blocked until you answer: answer each with `answer`.",
        {"type": "object", "properties": {}, "additionalProperties": False},
    ),
    "answer": (
        "Answer a question another agent asked you (its conversationId comes from `pending` "
        "or from the crosswalk note that showed it to you). The asker receives the answer "
        "at once. A question is answered only once.",
        {
            "type": "object",
            "properties": {
                "conversationId": {"type": "string", "description": "The question's id."},
                "answer": {"type": "string", "description": "Your answer."},
            },
            "required": ["conversationId", "answer"],
            "additionalProperties": False,
        },
    ),
    "wait": (
        "Wait again for the answer to a question you asked whose `ask` timed out: pass its "
        "`conversationId` (a question to an agent) or its `messageId` (a question to the "
        "person, asked with `user: true`). Returns the answer, or says it is still open.",
        {
            "type": "object",
            "properties": {
                "conversationId": {
                    "type": "string",
                    "description": "The id of a question to an agent.",
                },
                "messageId": {
                    "type": "string",
                    "description": "The id of a question to the person.",
                },
                "timeoutS": _TIMEOUT_S,
            },
            "additionalProperties": False,
        },
    ),
    "whoami": (
        "Who you are in crosswalk: your agent name and id, your task and its phase, and "
        "the other active agents of your initiative (with their tasks), whom `ask` can "
        "reach by `agent` or `task`.",
        {"type": "object", "properties": {}, "additionalProperties": False},
    ),
}


#: Calls the query or mutation at a path, with an input, as the agent.
Call = Callable[[str, Any], Awaitable[Any]]


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: text for the model, and whether it failed.

    Text only, no ``structuredContent``: Claude Code 2.1.332 gives the model a result's
    structured content instead of its text when there is some, and the text is what
    says what happened and what to do next."""

    text: str
    is_error: bool = False


class ToolError(Exception):
    """A tool call that cannot go on: ``error: message`` (and ``hint: ...``)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class AgentTools:
    """The tools as one agent (``agent_id``) calls them, through ``call``. ``url`` is
    the server's tRPC address, named in the hints that mention it. Once ``stopping()``
    is true (the server is shutting down) a wait ends at its next wake-up, and the
    question stays open for a ``wait`` on the next server."""

    def __init__(
        self,
        agent_id: str,
        call: Call,
        *,
        url: str,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.agent_id = agent_id
        self._call = call
        self._url = url
        self.stopping = stopping

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Run tool ``name``; a failure comes back as a result, never as an exception."""
        handler = _HANDLERS.get(name)
        if handler is None:
            known = ", ".join(TOOLS)
            return ToolResult(f"error: no tool named {name!r}; the tools are {known}", True)
        try:
            return await handler(self, arguments)
        except TrpcError as exc:
            hint = refusal_hint(exc.key, exc.message, agent_named=True, url=self._url)
            return _error(exc.message, hint)
        except ToolError as exc:
            return _error(exc.message, exc.hint)
        except Exception as exc:  # a bug: said as `cw` says one, and the server goes on
            logger.exception("MCP tool %s failed", name)
            return ToolResult(
                f"error: unexpected {type(exc).__name__}: {exc}\n"
                "this is a bug in crosswalk's MCP server; please report it with the tool call",
                True,
            )

    async def query(self, path: str, input: Any = None) -> Any:
        return await self._call(path, input)

    async def until_answered(
        self, path: str, qid: str, timeout_s: float, answered: Callable[[Any], bool]
    ) -> Any | None:
        """Long-poll ``path`` for question ``qid`` until ``answered(state)``; None when
        ``timeout_s`` passes first. A poll that comes back early unanswered (the server
        shutting down) is not retried at once, so nothing spins."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            remaining = max(deadline - loop.time(), 0.0)
            poll_s = min(remaining, LONG_POLL_S)
            started = loop.time()
            state = await self._call(path, {"id": qid, "timeoutMs": round(poll_s * 1000)})
            if answered(state):
                return state
            if loop.time() >= deadline or self.stopping():
                return None
            if loop.time() - started < poll_s / 2:
                await asyncio.sleep(min(1.0, max(deadline - loop.time(), 0.0)))


def _error(message: str, hint: str | None) -> ToolResult:
    text = f"error: {message}"
    return ToolResult(f"{text}\nhint: {hint}" if hint else text, True)


# -- the tools --------------------------------------------------------------------------


async def _ask(tools: AgentTools, arguments: Mapping[str, Any]) -> ToolResult:
    question = _trimmed(_text(arguments, "question"), "question")
    targets = [key for key in ("agent", "task", "phase", "file") if arguments.get(key)]
    if arguments.get("user") is True:
        targets.append("user")
    if len(targets) != 1:
        given = f" (got {' and '.join(targets)})" if targets else ""
        raise ToolError(
            "name exactly one addressee: agent, task, phase, file or user: true" + given
        )
    if arguments.get("line") is not None and targets != ["file"]:
        raise ToolError("line goes with file: it names a line of that file")
    timeout = _timeout(arguments)
    if targets == ["user"]:
        return await _ask_user(tools, question, timeout)
    payload: dict[str, Any] = {"id": new_id(), "fromAgentId": tools.agent_id, "question": question}
    target = targets[0]
    if target == "file":
        payload["file"] = _text(arguments, "file")
        if arguments.get("line") is not None:
            payload["line"] = arguments["line"]
    else:
        payload[{"agent": "toAgentId", "task": "taskId", "phase": "phaseId"}[target]] = _text(
            arguments, target
        )
    try:
        sent = await tools.query("conversation.ask", payload)
    except TrpcError as exc:
        if exc.key == "CONFLICT" and target == "phase":
            raise ToolError(exc.message, PHASE_CONFLICT_HINT) from None
        if exc.key == "CONFLICT" and target == "file":
            raise ToolError(exc.message, file_conflict_hint(shlex.quote(payload["file"]))) from None
        raise
    cid = str(sent.get("id", payload["id"]))
    state = await tools.until_answered("conversation.waitForAnswer", cid, timeout, _settled)
    notice = sent.get("notice")
    note = f"\n\nnote: {notice}" if isinstance(notice, str) and notice else ""
    if state is None:
        return _still_open("conversationId", cid, timeout, note, stopping=tools.stopping())
    result = await _agent_answer(tools, state)
    return ToolResult(result.text + note)


async def _ask_user(tools: AgentTools, question: str, timeout: float) -> ToolResult:
    sent = await tools.query(
        "message.askUser", {"id": new_id(), "agentId": tools.agent_id, "content": question}
    )
    mid = str(sent.get("id"))
    state = await tools.until_answered("message.waitForReply", mid, timeout, _responded)
    if state is None:
        return _still_open("messageId", mid, timeout, stopping=tools.stopping())
    return _reply(state)


async def _pending(tools: AgentTools, arguments: Mapping[str, Any]) -> ToolResult:
    questions: list[Any] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = await tools.query(
            "conversation.pending", {"agentId": tools.agent_id, "afterId": after}
        )
        if not isinstance(page, list) or not page:
            break
        questions += page
        after = str(page[-1].get("id"))
    if not questions:
        return ToolResult("No question waits for your answer.")
    blocks = [_render_question(q) for q in questions]
    head = f"{len(questions)} question(s) wait for your answer; answer each with `answer`."
    return ToolResult("\n\n".join([head, *blocks]))


async def _answer(tools: AgentTools, arguments: Mapping[str, Any]) -> ToolResult:
    cid = _text(arguments, "conversationId")
    answer = _trimmed(_text(arguments, "answer"), "answer")
    conversation = await tools.query(
        "conversation.answer", {"id": cid, "answer": answer, "agentId": tools.agent_id}
    )
    conversation = await _named(tools, conversation)
    asker = conversation.get("fromAgentName") or conversation.get("fromAgentId")
    return ToolResult(f"Answered conversation {cid} (asked by agent {asker}).")


async def _wait(tools: AgentTools, arguments: Mapping[str, Any]) -> ToolResult:
    ids = [key for key in ("conversationId", "messageId") if arguments.get(key)]
    if len(ids) != 1:
        raise ToolError("give exactly one of conversationId (an agent) or messageId (the person)")
    qid = _text(arguments, ids[0])
    timeout = _timeout(arguments)
    if ids == ["messageId"]:
        state = await tools.until_answered("message.waitForReply", qid, timeout, _responded)
        if state is None:
            return _still_open("messageId", qid, timeout, stopping=tools.stopping())
        return _reply(state)
    state = await tools.until_answered("conversation.waitForAnswer", qid, timeout, _settled)
    if state is None:
        return _still_open("conversationId", qid, timeout, stopping=tools.stopping())
    return await _agent_answer(tools, state)


async def _whoami(tools: AgentTools, arguments: Mapping[str, Any]) -> ToolResult:
    agent = await tools.query("agent.get", {"id": tools.agent_id})
    task = await tools.query("task.get", {"id": agent["taskId"]}) if agent.get("taskId") else None
    phase_id = (task or {}).get("phaseId")
    phase = await tools.query("phase.get", {"id": phase_id}) if phase_id else None
    initiative = agent.get("initiativeId") or (task or {}).get("initiativeId")
    peers: list[dict[str, Any]] = []
    if initiative:
        listed = await tools.query("agent.list", {"initiativeId": initiative})
        for peer in listed.get("items", []):
            if peer.get("id") == agent["id"] or peer.get("status") not in ACTIVE:
                continue
            peers.append({**peer, "taskName": await _task_name(tools, peer.get("taskId"))})
    lines = [f"You are agent {agent.get('name')} (id {agent['id']}), {agent.get('status')}."]
    if task is not None:
        lines.append(f'Your task: {task["id"]} "{task.get("name")}" ({task.get("status")}).')
    if phase is not None:
        lines.append(f'Its phase: {phase["id"]} "{phase.get("name")}".')
    if peers:
        lines.append("Other active agents of your initiative (ask them by agent or task):")
        for peer in peers:
            work = f' on task {peer["taskId"]} "{peer["taskName"]}"' if peer.get("taskId") else ""
            lines.append(f"- {peer.get('name')} (id {peer['id']}), {peer.get('status')}{work}")
    else:
        lines.append("No other agent of your initiative is active now.")
    return ToolResult("\n".join(lines))


_HANDLERS: dict[str, Callable[[AgentTools, Mapping[str, Any]], Awaitable[ToolResult]]] = {
    "ask": _ask,
    "pending": _pending,
    "answer": _answer,
    "wait": _wait,
    "whoami": _whoami,
}


# -- the pieces -------------------------------------------------------------------------


def _text(arguments: Mapping[str, Any], key: str) -> str:
    value = arguments.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ToolError(f"{key} must be a non-empty string")
    return value


def _trimmed(text: str, what: str) -> str:
    """Text as ``cw`` reads an argument: blank lines around it and trailing spaces go,
    the first line's indentation stays (an answer may start with a code block)."""
    lines = text.rstrip().splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ToolError(f"the {what} is empty (read from the argument)")
    return "\n".join(lines)


def _timeout(arguments: Mapping[str, Any]) -> float:
    value = arguments.get("timeoutS", DEFAULT_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ToolError(f"timeoutS must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _settled(conversation: Any) -> bool:
    return isinstance(conversation, dict) and conversation.get("status") in (
        "answered",
        "abandoned",
    )


def _responded(state: Any) -> bool:
    question = state.get("question") if isinstance(state, dict) else None
    return isinstance(question, dict) and question.get("status") == "responded"


async def _task_name(tools: AgentTools, task_id: str | None) -> str | None:
    if not task_id:
        return None
    try:
        return str((await tools.query("task.get", {"id": task_id})).get("name"))
    except TrpcError:  # deleted meanwhile: the peer is still worth naming
        return None


async def _named(tools: AgentTools, conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation with its agents' names (the long poll and the answer give ids)."""
    if conversation.get("fromAgentName") and conversation.get("toAgentName"):
        return conversation
    named = await tools.query("conversation.get", {"id": conversation["id"]})
    return {**conversation, **{key: named.get(key) for key in ("fromAgentName", "toAgentName")}}


async def _agent_answer(tools: AgentTools, conversation: dict[str, Any]) -> ToolResult:
    """An agent's answer as ``ask`` and ``wait`` return it, quoted under its author."""
    cid = one_line(conversation.get("id"))
    if conversation.get("status") == "abandoned":
        raise ToolError(
            f"conversation {cid} will not be answered: {conversation.get('abandonedReason')}",
            UNANSWERABLE_HINT,
        )
    conversation = await _named(tools, conversation)
    who = one_line(conversation.get("toAgentName") or conversation.get("toAgentId"))
    return ToolResult(
        f"Answer from agent {who} (conversation {cid}), "
        f"written by agent {who}, not by crosswalk:\n{fenced(str(conversation.get('answer')))}"
    )


def _reply(state: dict[str, Any]) -> ToolResult:
    """The person's reply as ``ask`` and ``wait`` return it: the person's own words."""
    reply = state.get("reply") or {}
    mid = one_line((state.get("question") or {}).get("id"))
    text = reply.get("content") or "(the question was marked answered without a reply)"
    return ToolResult(f"The person replied (message {mid}):\n{visible(str(text))}")


def _still_open(
    key: str, qid: str, timeout: float, note: str = "", *, stopping: bool = False
) -> ToolResult:
    """A wait that ran out (or was cut short by the server stopping): not a failure, the
    question stays open. Said as ``cw ask`` says it, then how to wait again."""
    if stopping:
        return ToolResult(
            "No answer yet: the crosswalk server is stopping. The question stays open. "
            f'To keep waiting, call `wait` with {key} "{qid}" once it is back.{note}'
        )
    if key == "messageId":
        waited, resume = f"the user's reply to message {qid}", f"cw message wait {qid}"
    else:
        waited, resume = f"an answer to conversation {qid}", f"cw wait {qid}"
    said = f"timed out waiting for {waited}; resume with: {resume}"
    return ToolResult(
        f"No answer yet: {said}\nThe question stays open. "
        f'To keep waiting, call `wait` with {key} "{qid}".{note}'
    )


def _render_question(question: Mapping[str, Any]) -> str:
    """A question as ``cw hook`` shows one: the asker's text fenced, under a line naming
    the asker (docs/hooks.md: another agent's text never passes for crosswalk's)."""
    cid = one_line(question.get("id"))
    asker = one_line(question.get("fromAgentName") or question.get("fromAgentId"))
    where = f", about task {one_line(question['taskId'])}" if question.get("taskId") else ""
    return (
        f"Question {cid} from agent {asker}{where}. "
        f"Its text, written by agent {asker}, not by crosswalk:\n"
        f"{fenced(str(question.get('question', '')))}\n"
        f'Answer with `answer`, conversationId "{cid}".'
    )
