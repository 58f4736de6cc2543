"""The tools of ``cw mcp``: what each says to the model, its JSON schema, and what it does.

Each tool is a blocking call made with the ``cw`` client's own pieces (``Context``, the
tRPC client, the ask-and-wait flows of ``crosswalk.cli.asking``), so a tool behaves as
the command it mirrors: the same retries across a server restart, the same deadlines,
and, when it fails, the same ``error: ...`` and ``hint: ...`` lines ``cw`` prints. No MCP
SDK here: ``crosswalk.mcp_server.server`` turns a ``ToolResult`` into the protocol's.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crosswalk.cli.asking import ask_and_wait, new_question_id, wait_and_print
from crosswalk.cli.context import Context, Runtime, connect
from crosswalk.cli.conversation import AGENT_QUESTION, DEFAULT_TIMEOUT_S, cmd_answer, cmd_ask
from crosswalk.cli.errors import CliError, RemoteError, TimedOutError, UsageError
from crosswalk.cli.hook import find_worktree, read_identity
from crosswalk.cli.main import report_error
from crosswalk.cli.message import USER_QUESTION
from crosswalk.cli.rpc import RpcClient
from crosswalk.visible import fenced, one_line, visible

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


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: text for the model, and whether it failed.

    Text only, no ``structuredContent``: Claude Code 2.1.332 gives the model a result's
    structured content instead of its text when there is some, and the text is what
    says what happened and what to do next."""

    text: str
    is_error: bool = False


class _Recording:
    """The client, noting the id of each question it sends (the CLI's flows make it)."""

    def __init__(self, inner: RpcClient) -> None:
        self._inner = inner
        self.sent_id: str | None = None

    def query(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        return self._inner.query(path, input, timeout_s=timeout_s)

    def mutation(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        if path in (AGENT_QUESTION.ask_path, USER_QUESTION.ask_path) and isinstance(input, dict):
            self.sent_id = str(input.get("id"))
        return self._inner.mutation(path, input, timeout_s=timeout_s)

    def subscribe(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.subscribe(*args, **kwargs)

    def close(self) -> None:
        self._inner.close()


def agent_env(env: Mapping[str, str], cwd: str) -> dict[str, str]:
    """The environment the tools act in: the agent CLI's, or, when that names no agent,
    the identity ``cw hooks install --agent`` (or ``cw mcp install --agent``) saved in
    the worktree."""
    found = dict(env)
    if found.get("CW_AGENT_ID") and found.get("CW_TOKEN"):
        return found
    saved = read_identity({}, find_worktree(cwd))
    if saved is not None:
        found.update(CW_AGENT_ID=saved.agent_id, CW_TOKEN=saved.token)
        found.setdefault("CW_URL", saved.url)
    return found


class AgentTools:
    """Runs tool calls as the agent named in ``env``. Each call has its own client and
    streams, so calls may run at once, on different threads."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        client_factory: Callable[[str, str | None], RpcClient] = connect,
    ) -> None:
        self.env = agent_env(os.environ if env is None else env, str(Path.cwd()))
        self._client_factory = client_factory

    def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        """Run tool ``name``; a failure comes back as a result, never as an exception."""
        handler = _HANDLERS.get(name)
        if handler is None:
            known = ", ".join(TOOLS)
            return ToolResult(f"error: no tool named {name!r}; the tools are {known}", True)
        recording: list[_Recording] = []

        def client(url: str, token: str | None) -> RpcClient:
            recording.append(_Recording(self._client_factory(url, token)))
            return recording[-1]

        stdout, stderr = io.StringIO(), io.StringIO()
        runtime = Runtime(
            env=self.env, stdin=io.StringIO(), stdout=stdout, stderr=stderr,
            client_factory=client,
        )  # fmt: skip
        ctx = Context(argparse.Namespace(json=True), runtime)
        try:
            result = handler(ctx, arguments)
        except TimedOutError as exc:
            sent = recording[0].sent_id if recording else None
            result = _still_open(exc, sent, arguments)
        except CliError as exc:
            report_error(exc, ctx)
            return ToolResult(stderr.getvalue().strip(), True)
        except Exception as exc:  # a bug: said as `cw` says it, and the server goes on
            return ToolResult(
                f"error: unexpected {type(exc).__name__}: {exc}\n"
                "this is a bug in cw mcp; please report it with the tool call",
                True,
            )
        finally:
            ctx.close()
        notes = stderr.getvalue().strip()
        if notes:
            result = ToolResult(f"{result.text}\n\n{notes}", result.is_error)
        return result


# -- the tools --------------------------------------------------------------------------


def _ask(ctx: Context, arguments: Mapping[str, Any]) -> ToolResult:
    question = _text(arguments, "question")
    targets = [key for key in ("agent", "task", "phase", "file") if arguments.get(key)]
    if arguments.get("user") is True:
        targets.append("user")
    if len(targets) != 1:
        given = f" (got {' and '.join(targets)})" if targets else ""
        raise UsageError(
            "name exactly one addressee: agent, task, phase, file or user: true" + given
        )
    if arguments.get("line") is not None and targets != ["file"]:
        raise UsageError("line goes with file: it names a line of that file")
    timeout = _timeout(arguments)
    if targets == ["file"]:
        _ask_by_file(ctx, question, arguments, timeout)
    else:
        args = argparse.Namespace(
            question=_as_stdin(ctx, question), user=targets == ["user"], timeout=timeout,
            no_wait=False, **{key: arguments.get(key) for key in ("agent", "task", "phase")},
        )  # fmt: skip
        cmd_ask(args, ctx)
    return _answered(ctx, _printed(ctx))


def _ask_by_file(ctx: Context, question: str, arguments: Mapping[str, Any], timeout: float) -> None:
    """A file as the addressee, passed to the server as ``file`` (and ``line``)."""
    payload: dict[str, Any] = {
        "id": new_question_id(),
        "fromAgentId": ctx.require_agent_id(),
        "question": ctx.read_text(_as_stdin(ctx, question), "question"),
        "file": _text(arguments, "file"),
    }
    if arguments.get("line") is not None:
        payload["line"] = arguments["line"]
    show = AGENT_QUESTION.show
    ask_and_wait(
        ctx, AGENT_QUESTION, payload, timeout, no_wait=False,
        sent_hint=lambda cid: f"check whether it arrived with: {show} {cid}",
        unconfirmed=lambda cid: f"check whether it arrived with: {show} {cid}",
    )  # fmt: skip


def _pending(ctx: Context, arguments: Mapping[str, Any]) -> ToolResult:
    me = ctx.require_agent_id()
    questions: list[Any] = []
    after: str | None = None
    for _ in range(MAX_PAGES):
        page = ctx.client.query("conversation.pending", {"agentId": me, "afterId": after})
        if not isinstance(page, list) or not page:
            break
        questions += page
        after = str(page[-1].get("id"))
    if not questions:
        return ToolResult("No question waits for your answer.")
    blocks = [_render_question(q) for q in questions]
    head = f"{len(questions)} question(s) wait for your answer; answer each with `answer`."
    return ToolResult("\n\n".join([head, *blocks]))


def _answer(ctx: Context, arguments: Mapping[str, Any]) -> ToolResult:
    cid = _text(arguments, "conversationId")
    answer = _as_stdin(ctx, _text(arguments, "answer"))
    cmd_answer(argparse.Namespace(conversation_id=cid, answer=answer), ctx)
    conversation = _named(ctx, _printed(ctx))
    asker = conversation.get("fromAgentName") or conversation.get("fromAgentId")
    return ToolResult(f"Answered conversation {cid} (asked by agent {asker}).")


def _wait(ctx: Context, arguments: Mapping[str, Any]) -> ToolResult:
    ids = [key for key in ("conversationId", "messageId") if arguments.get(key)]
    if len(ids) != 1:
        raise UsageError("give exactly one of conversationId (an agent) or messageId (the person)")
    flow = AGENT_QUESTION if ids == ["conversationId"] else USER_QUESTION
    wait_and_print(ctx, flow, _text(arguments, ids[0]), ctx.deadline(_timeout(arguments)))
    return _answered(ctx, _printed(ctx))


def _whoami(ctx: Context, arguments: Mapping[str, Any]) -> ToolResult:
    agent = ctx.client.query("agent.get", {"id": ctx.require_agent_id()})
    task = ctx.client.query("task.get", {"id": agent["taskId"]}) if agent.get("taskId") else None
    phase_id = (task or {}).get("phaseId")
    phase = ctx.client.query("phase.get", {"id": phase_id}) if phase_id else None
    initiative = agent.get("initiativeId") or (task or {}).get("initiativeId")
    peers: list[dict[str, Any]] = []
    if initiative:
        listed = ctx.client.query("agent.list", {"initiativeId": initiative})
        for peer in listed.get("items", []):
            if peer.get("id") == agent["id"] or peer.get("status") not in ACTIVE:
                continue
            peers.append({**peer, "taskName": _task_name(ctx, peer.get("taskId"))})
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


_HANDLERS: dict[str, Callable[[Context, Mapping[str, Any]], ToolResult]] = {
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
        raise UsageError(f"{key} must be a non-empty string")
    return value


def _as_stdin(ctx: Context, text: str) -> str:
    """Hand ``text`` to a CLI handler as ``cw`` gets text from a pipe (``-``), so it is
    read and trimmed as the command's argument is, whatever it holds."""
    ctx.stdin = io.StringIO(text)
    return "-"


def _task_name(ctx: Context, task_id: str | None) -> str | None:
    if not task_id:
        return None
    try:
        return str(ctx.client.query("task.get", {"id": task_id}).get("name"))
    except RemoteError:  # deleted meanwhile: the peer is still worth naming
        return None


def _timeout(arguments: Mapping[str, Any]) -> float:
    value = arguments.get("timeoutS", DEFAULT_TIMEOUT_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise UsageError(f"timeoutS must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _printed(ctx: Context) -> Any:
    """What the CLI flow printed (``--json``: one document)."""
    stdout = ctx.stdout
    assert isinstance(stdout, io.StringIO)
    return json.loads(stdout.getvalue())


def _named(ctx: Context, conversation: dict[str, Any]) -> dict[str, Any]:
    """The conversation with its agents' names (the long poll and the answer give ids)."""
    if conversation.get("fromAgentName") and conversation.get("toAgentName"):
        return conversation
    named = ctx.client.query("conversation.get", {"id": conversation["id"]})
    return {**conversation, **{key: named.get(key) for key in ("fromAgentName", "toAgentName")}}


def _answered(ctx: Context, result: Any) -> ToolResult:
    """An answer as ``ask`` and ``wait`` return it: from an agent, or the person's reply."""
    if isinstance(result, dict) and "reply" in result:
        reply = result.get("reply") or {}
        mid = one_line((result.get("question") or {}).get("id"))
        text = reply.get("content") or "(the question was marked answered without a reply)"
        return ToolResult(f"The person replied (message {mid}):\n{visible(str(text))}")
    result = _named(ctx, result)
    who = one_line(result.get("toAgentName") or result.get("toAgentId"))
    return ToolResult(
        f"Answer from agent {who} (conversation {one_line(result.get('id'))}), "
        f"written by agent {who}, not by crosswalk:\n{fenced(str(result.get('answer')))}"
    )


def _still_open(exc: TimedOutError, sent: str | None, arguments: Mapping[str, Any]) -> ToolResult:
    """A wait that ran out: not a failure, the question stays open."""
    to_user = arguments.get("user") is True or bool(arguments.get("messageId"))
    key = "messageId" if to_user else "conversationId"
    qid = sent or arguments.get(key)
    again = f'To keep waiting, call `wait` with {key} "{qid}".' if qid else ""
    text = f"No answer yet: {exc.message}\nThe question stays open. {again}".strip()
    if exc.hint:
        text += f"\nhint: {exc.hint}"
    return ToolResult(text)


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
