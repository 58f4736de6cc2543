"""``cw hook PROVIDER EVENT``: what Claude Code and Codex run at their hook events.

The agent CLI pipes the event's JSON to stdin and reads what this prints (docs/hooks.md):

- ``SessionStart``: context saying who the agent is, its task, how to ask and answer,
  and the questions already waiting;
- ``PostToolUse``, ``UserPromptSubmit``: what the person told the agent (``cw tell``),
  the questions addressed to the agent that this session has not been shown yet,
  answers to its ``--no-wait`` questions, and the files another agent's unmerged work
  changed too (each told once), as
  ``{"hookSpecificOutput": {"hookEventName": ..., "additionalContext": ...}}``;
- ``Stop``: ``{"decision": "block", "reason": ...}`` when the person told the agent
  something (so it reads it before it stops), and while questions wait for the agent's
  answer, giving up after ``MAX_STOP_BLOCKS`` blocks in a row for the same questions.

It must never be in the agent's way: whatever goes wrong (no server within
``CONNECT_TIMEOUT_S`` + ``READ_TIMEOUT_S``, no identity, malformed input), it prints
nothing, exits 0 and writes a line to ``.crosswalk/hook.log`` in the worktree. Run as
``cw hook`` it also has one total deadline (``Deadline``): a server that answers too
slowly in any way (a byte at a time keeps every read within its timeout) ends it
the same way. It runs after every tool call, so it imports little: no argparse
(``main`` dispatches here directly), no pathlib, one request (``agent.checkIn``) per
event.

What each session was shown lives in ``.crosswalk/hook-state.json`` in the worktree, a
small private file read and rewritten only when something is shown (docs/hooks.md says
why it is there rather than on the server).
"""

from __future__ import annotations

import _thread
import json
import os
import sys
import time

from crosswalk.agent_hooks import (
    IDENTITY_FILE,
    LOG_FILE,
    PROVIDERS,
    QUOTED_TEXT_NOTE,
    STATE_DIR,
    STATE_FILE,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

    from crosswalk.cli.rpc import RpcClient

#: Hook event -> the activity ``agent.checkIn`` is told about.
EVENTS = {
    "SessionStart": "session_start",
    "UserPromptSubmit": "prompt",
    "PostToolUse": "tool",
    "Stop": "stop",
}
#: Together within the 300 ms the agent CLI may be kept waiting by an absent server.
CONNECT_TIMEOUT_S = 0.1
READ_TIMEOUT_S = 0.2
#: The whole hook, from its start to its exit, whatever the server does; the rest of a
#: second is for the interpreter to start and exit.
DEADLINE_S = 0.8
#: ``agent.checkIn``'s answer holds every pending question (each up to 100,000
#: characters): far below this; a larger one is not read on, nor held in memory.
MAX_RESPONSE_BYTES = 16 << 20
MAX_CONTEXT_CHARS = 10_000
#: A question's text is cut here in the context; ``cw conversation get`` shows it all.
MAX_QUESTION_CHARS = 2_000
MAX_STOP_BLOCKS = 3
#: Overlapping files told at once (each is told once; the rest: ``cw initiative status``).
MAX_OVERLAPS_SHOWN = 20


class HookIdentity:
    """Who the hook acts as: from ``CW_AGENT_ID``/``CW_TOKEN``/``CW_URL``, else from the
    worktree's ``.crosswalk/agent.json`` (written by ``cw hooks install --agent``)."""

    __slots__ = ("agent_id", "token", "url")

    def __init__(self, agent_id: str, token: str, url: str) -> None:
        self.agent_id = agent_id
        self.token = token
        self.url = url


class Deadline:
    """Ends the process, printing nothing, when the hook has not finished in time.

    A thread, because socket timeouts alone do not bound the whole: a server that
    trickles a byte every 0.1 s keeps each read within its timeout forever, and a name
    lookup or a stdin left open has no timeout at all. Once the hook has its answer it
    calls ``finish``, so that saving what a session was shown and printing it happen
    whole or not at all. ``worktree`` and ``doing`` say where to log and what the hook
    was waiting for.
    """

    def __init__(self, seconds: float, provider: str, event: str, worktree: str) -> None:
        self.worktree = worktree
        self.doing = "reading the event on stdin"
        self._finishing = _thread.allocate_lock()
        self._finished = False
        _thread.start_new_thread(self._expire, (seconds, provider, event))

    def finish(self) -> None:
        """From here on the run ends by itself. If the deadline has passed already, this
        waits for ``_expire`` to end the process (it holds the lock until then)."""
        if not self._finished:
            if not self._finishing.acquire(blocking=False):
                self._finishing.acquire()
            self._finished = True

    def _expire(self, seconds: float, provider: str, event: str) -> None:
        time.sleep(seconds)
        if self._finishing.acquire(blocking=False):
            log_line(self.worktree, provider, event, f"gave up after {seconds:g} s {self.doing}")
            os._exit(0)


def find_worktree(start: str) -> str:
    """The worktree holding ``start``: the nearest directory at or above it with
    ``.git``, else ``start`` itself. A ``.crosswalk`` directory alone never claims a
    parent (a stray one in a shared directory such as /tmp must not capture every
    hook run below it)."""
    path = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return os.path.abspath(start)
        path = parent


def read_identity(env: Mapping[str, str], worktree: str) -> HookIdentity | None:
    agent_id, token = env.get("CW_AGENT_ID"), env.get("CW_TOKEN")
    url = env.get("CW_URL")
    if agent_id and token:
        return HookIdentity(agent_id, token, url or _default_url())
    try:
        with open(os.path.join(worktree, STATE_DIR, IDENTITY_FILE), encoding="utf-8") as file:
            saved = json.load(file)
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict):
        return None
    agent_id, token = saved.get("agentId"), saved.get("token")
    if not isinstance(agent_id, str) or not isinstance(token, str):
        return None
    saved_url = saved.get("url")
    return HookIdentity(
        agent_id, token, url or (saved_url if isinstance(saved_url, str) else "") or _default_url()
    )


def _default_url() -> str:
    from crosswalk.config import DEFAULT_URL

    return DEFAULT_URL


# -- what each session was shown ------------------------------------------------------


class SessionState:
    """The ids shown to one session, and the Stop blocks in a row for one set of ids."""

    def __init__(self, data: Any, agent_id: str, session_id: str) -> None:
        same = (
            isinstance(data, dict)
            and data.get("agentId") == agent_id
            and data.get("sessionId") == session_id
        )
        shown = data.get("shown") if same else None
        stop = data.get("stop") if same else None
        self.agent_id = agent_id
        self.session_id = session_id
        self.shown: list[str] = (
            [i for i in shown if isinstance(i, str)] if isinstance(shown, list) else []
        )
        self.stop_ids: list[str] = []
        self.stop_blocks = 0
        if isinstance(stop, dict) and isinstance(stop.get("ids"), list):
            self.stop_ids = [i for i in stop["ids"] if isinstance(i, str)]
            blocks = stop.get("blocks")
            self.stop_blocks = blocks if isinstance(blocks, int) else 0
        self.changed = not same

    def to_json(self) -> dict[str, Any]:
        return {
            "agentId": self.agent_id,
            "sessionId": self.session_id,
            "shown": self.shown,
            "stop": {"ids": self.stop_ids, "blocks": self.stop_blocks},
        }


def load_state(worktree: str, agent_id: str, session_id: str) -> SessionState:
    try:
        with open(os.path.join(worktree, STATE_DIR, STATE_FILE), encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        data = None
    return SessionState(data, agent_id, session_id)


def save_state(worktree: str, state: SessionState) -> None:
    """Replace the state file atomically (0600: it names the agent's conversations)."""
    directory = _state_dir(worktree)
    path = os.path.join(directory, STATE_FILE)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as file:
        json.dump(state.to_json(), file)
    os.replace(temporary, path)


def _state_dir(worktree: str) -> str:
    directory = os.path.join(worktree, STATE_DIR)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    return directory


def log_line(worktree: str, provider: str, event: str, message: str) -> None:
    """One line in ``.crosswalk/hook.log``; a log that cannot be written is skipped."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    line = f"{stamp} {provider} {event} {message}".replace("\n", " ")
    try:
        fd = os.open(
            os.path.join(_state_dir(worktree), LOG_FILE),
            os.O_WRONLY | os.O_CREAT | os.O_APPEND,
            0o600,
        )
        with open(fd, "a", encoding="utf-8") as file:
            file.write(line + "\n")
    except OSError:
        pass


# -- what the model reads ---------------------------------------------------------------


def _id_arg(cid: str) -> str:
    return f"-- {cid}" if cid.startswith("-") else cid


def _quoted(text: str, whole: str | None = None) -> str:
    """``text`` fenced (``visible.fenced``); with ``whole`` (the command showing all of
    it), cut at ``MAX_QUESTION_CHARS`` with the command after the block, outside it."""
    from crosswalk.visible import fenced  # loaded only when something is shown

    text, rest = _clipped(text, whole)
    return fenced(text) + rest


def _name(value: Any) -> str:
    from crosswalk.visible import one_line

    return one_line(value)


def _clipped(text: str, whole: str | None) -> tuple[str, str]:
    """``text`` cut at ``MAX_QUESTION_CHARS`` when ``whole`` (the command showing all of
    it) is given, and the line saying so ("" when nothing was cut)."""
    if whole is None or len(text) <= MAX_QUESTION_CHARS:
        return text, ""
    more = len(text) - MAX_QUESTION_CHARS
    return text[:MAX_QUESTION_CHARS], f"\n[{more} more characters: {whole}]"


def _whole(cid: str) -> str:
    return f"cw conversation get {_name(_id_arg(cid))}"


def render_question(question: Mapping[str, Any]) -> str:
    cid = str(question.get("id"))
    asker = _name(question.get("fromAgentName") or question.get("fromAgentId"))
    asker = "the person" if question.get("fromAgentId") is None else f"agent {asker}"
    task = ""
    if question.get("fromTaskId"):
        name = question.get("fromTaskName")
        task = f", working on task {_name(question['fromTaskId'])}" + (
            f' "{_name(name)}"' if name else ""
        )
    return (
        f"Question {_name(cid)} from {asker}{task}. "
        f"Its text, written by {asker}, not by crosswalk:\n"
        f"{_quoted(str(question.get('question', '')), _whole(cid))}\n"
        f'Answer command: cw answer {_name(_id_arg(cid))} "YOUR ANSWER"'
    )


def render_answer(answer: Mapping[str, Any]) -> str:
    cid = str(answer.get("id"))
    who = _name(answer.get("toAgentName") or answer.get("toAgentId"))
    return (
        f"Answer from agent {who} to your question {_name(cid)}. Your question:\n"
        f"{_quoted(str(answer.get('question', '')), _whole(cid))}\n"
        f"The answer, written by agent {who}, not by crosswalk:\n"
        f"{_quoted(str(answer.get('answer', '')))}"
    )


def render_told(message: Mapping[str, Any]) -> str:
    # The person's words, not a peer's: not fenced (see QUOTED_TEXT_NOTE), but a control
    # character in them is shown, never passed to the model raw.
    from crosswalk.visible import visible

    mid = str(message.get("id"))
    whole = f"cw message show {_name(_id_arg(mid))}"
    text, rest = _clipped(str(message.get("content", "")), whole)
    sent = _name(message.get("createdAt"))
    indented = "\n".join(f"  {line}" for line in visible(text).split("\n"))
    parent = message.get("parentMessageId")
    if parent is not None:  # the reply to a question the agent did not wait on
        question = f"cw message show {_name(_id_arg(str(parent)))}"
        return (
            f"Reply {_name(mid)} from the person to your question {_name(parent)} "
            f"({question} shows it), sent {sent}:\n{indented}{rest}"
        )
    return f"Message {_name(mid)} from the person, sent {sent}:\n{indented}{rest}"


def render_items(
    head: str,
    blocks: list[str],
    kind: str,
    limit: int = MAX_CONTEXT_CHARS,
    everything: str = "cw listen --timeout 0",
) -> str:
    """``head`` and as many ``blocks`` as fit in ``limit`` characters; the rest is
    summarised with a count and the command that shows everything."""
    text = head
    for shown, block in enumerate(blocks):
        left = len(blocks) - shown
        tail = f"\n\n{left} more {kind} not shown here; {everything} lists them all."
        if len(text) + 2 + len(block) + len(tail) > limit:
            if not shown and len(text) + len(tail) > limit:
                return text[: max(limit - len(tail), 0)] + tail
            return text + tail
        text += "\n\n" + block
    return text


def told_text(agent: Mapping[str, Any], messages: list[Any], limit: int) -> str:
    """What the person told the agent (``cw tell``), first: the person steers the work."""
    count = f"{len(messages)} message{'s' if len(messages) != 1 else ''}"
    return render_items(
        f"crosswalk: {count} for you (agent {_name(agent.get('name'))}) from the person "
        "coordinating the work. Read it and take it into account in what you do next; "
        'to ask the person something back: cw ask --user "QUESTION".',
        [render_told(m) for m in messages],
        "messages",
        limit,
        everything="cw message list --from-user",
    )


def delivery_text(
    agent: Mapping[str, Any],
    questions: list[Any],
    answers: list[Any],
    limit: int = MAX_CONTEXT_CHARS,
    messages: list[Any] | None = None,
) -> str:
    """What the person told the agent, the questions and the answers for the model, in
    at most ``limit`` characters (shared evenly between the kinds there are)."""
    parts = []
    kinds = sum(1 for found in (messages, questions, answers) if found)
    share = limit // kinds - 2 if kinds > 1 else limit
    if messages:
        parts.append(told_text(agent, messages, share))
    if questions:
        count = f"{len(questions)} question{'s' if len(questions) != 1 else ''}"
        parts.append(
            render_items(
                f"crosswalk: {count} from other agents for you (agent {_name(agent.get('name'))}) "
                "waiting for an answer.",
                [render_question(q) for q in questions],
                "questions",
                share,
            )
        )
    if answers:
        count = f"{len(answers)} answer{'s' if len(answers) != 1 else ''}"
        parts.append(
            render_items(
                f"crosswalk: {count} arrived for questions you asked with --no-wait.",
                [render_answer(a) for a in answers],
                "answers",
                share,
            )
        )
    return "\n\n".join(parts)


def session_text(
    found: Mapping[str, Any],
    questions: list[Any],
    answers: list[Any],
    messages: list[Any] | None = None,
) -> str:
    agent = found.get("agent") or {}
    task = found.get("task")
    lines = [f"crosswalk: you are agent {_name(agent.get('name'))} (id {_name(agent.get('id'))})."]
    if isinstance(task, dict):
        lines.append(f'Your task: {_name(task.get("id"))} "{_name(task.get("name"))}".')
        if task.get("description"):
            # The person's words, not a peer's: not fenced (see QUOTED_TEXT_NOTE).
            from crosswalk.visible import visible

            whole = f"cw task show {_name(_id_arg(str(task.get('id'))))}"
            description, rest = _clipped(str(task["description"]), whole)
            lines.append(visible(description) + rest)
    from crosswalk.target_kinds import usage_lines  # SessionStart only: off the hot path

    lines += [
        "Other agents and the person coordinating the work can be asked with cw (it",
        "waits for the answer and prints it; with --no-wait the answer arrives here later):",
        *usage_lines(),
        'Questions for you arrive here with their id; cw answer ID "ANSWER" answers one.',
        QUOTED_TEXT_NOTE,
    ]
    text = "\n".join(lines)
    overlaps = [o for o in found.get("overlaps") or [] if isinstance(o, dict)]
    if overlaps:
        text += "\n\n" + overlap_text(overlaps)
    if not questions and not answers and not messages:
        return text + "\nNo question is waiting for you now."
    left = MAX_CONTEXT_CHARS - len(text) - 2
    return text + "\n\n" + delivery_text(agent, questions, answers, left, messages)


def overlap_text(overlaps: list[Any]) -> str:
    """The files another agent's unmerged work changed too, and how to ask it."""
    blocks = []
    for overlap in overlaps:
        name = _name(overlap.get("agentName") or overlap.get("agentId"))
        task = ""
        if overlap.get("taskId"):
            title = _name(overlap.get("taskName") or "")
            task = f" (task {_name(overlap['taskId'])}" + (f' "{title}")' if title else ")")
        blocks.append(
            f"{_name(overlap.get('file'))}: also changed by agent {name}{task}.\n"
            f'Ask it: cw ask --agent {_id_arg(name)} "QUESTION"'
        )
    head = (
        "crosswalk: another agent's unmerged work changed files yours changed; agree on "
        "them before either is merged."
    )
    shown = blocks[:MAX_OVERLAPS_SHOWN]
    if len(blocks) > len(shown):
        shown.append(f"{len(blocks) - len(shown)} more: cw initiative status shows them all.")
    return "\n\n".join([head, *shown])


def stop_reason(
    agent: Mapping[str, Any], questions: list[Any], messages: list[Any] | None = None
) -> str:
    parts = []
    share = MAX_CONTEXT_CHARS // 2 - 2 if questions and messages else MAX_CONTEXT_CHARS
    if messages:
        parts.append(told_text(agent, messages, share))
    if questions:
        count = f"{len(questions)} question{'s' if len(questions) != 1 else ''}"
        parts.append(
            render_items(
                f"crosswalk: {count} from other agents still wait for your answer "
                f"(agent {_name(agent.get('name'))}); they are blocked until it comes.",
                [render_question(q) for q in questions],
                "questions",
                share,
            )
        )
    return "\n\n".join(parts)


def hook_output(event: str, text: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}


# -- the hook ---------------------------------------------------------------------------


def run_hook(
    provider: str,
    event: str,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    env: Mapping[str, str] | None = None,
    connect: Any = None,
    deadline_s: float | None = None,
) -> int:
    """Run one hook event; always returns 0 (see the module docstring). With
    ``deadline_s`` (``cw hook`` itself) the process ends, exit code 0, once that time
    has passed (``Deadline``)."""
    env = os.environ if env is None else env
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    worktree = find_worktree(env.get("CLAUDE_PROJECT_DIR") or os.getcwd())
    deadline = None if deadline_s is None else Deadline(deadline_s, provider, event, worktree)
    try:
        if provider not in PROVIDERS or event not in EVENTS:
            log_line(worktree, provider, event, "ignored: not a provider and event cw knows")
            return 0
        try:
            payload = json.loads(stdin.read() or "null")
        except ValueError as exc:
            payload = exc
        if not isinstance(payload, dict):
            log_line(worktree, provider, event, f"ignored: malformed event on stdin ({payload})")
            return 0
        cwd = payload.get("cwd")
        if isinstance(cwd, str) and cwd and not env.get("CLAUDE_PROJECT_DIR"):
            worktree = find_worktree(cwd)
            if deadline is not None:
                deadline.worktree = worktree
        text = _handle(provider, event, payload, env, worktree, connect, deadline)
        if text:
            stdout.write(text + "\n")
            stdout.flush()
    except Exception as exc:  # never the agent's problem; the log says what happened
        log_line(worktree, provider, event, f"failed: {type(exc).__name__}: {exc}")
    finally:
        if deadline is not None:
            deadline.finish()
    return 0


def _handle(
    provider: str,
    event: str,
    payload: Mapping[str, Any],
    env: Mapping[str, str],
    worktree: str,
    connect: Any,
    deadline: Deadline | None,
) -> str | None:
    identity = read_identity(env, worktree)
    if identity is None:
        log_line(worktree, provider, event, "skipped: no CW_AGENT_ID/CW_TOKEN and no identity file")
        return None
    from crosswalk.cli.errors import ClientError

    client: RpcClient
    if connect is None:
        from crosswalk.cli.client import TrpcClient

        client = TrpcClient(
            identity.url,
            identity.token,
            READ_TIMEOUT_S,
            connect_timeout_s=CONNECT_TIMEOUT_S,
            max_response_bytes=MAX_RESPONSE_BYTES,
        )
    else:
        client = connect(identity.url, identity.token)
    if deadline is not None:
        deadline.doing = f"waiting for the server at {identity.url}"
    try:
        found = client.mutation(
            "agent.checkIn",
            {
                "agentId": identity.agent_id,
                "activity": EVENTS[event],
                "takeAnswers": event != "Stop",
                "takeMessages": True,
                "withTask": event == "SessionStart",
            },
        )
    except ClientError as exc:
        log_line(worktree, provider, event, f"skipped: {exc.message}")
        return None
    finally:
        client.close()
    questions = [q for q in found.get("questions") or [] if isinstance(q, dict)]
    answers = [a for a in found.get("answers") or [] if isinstance(a, dict)]
    messages = [m for m in found.get("messages") or [] if isinstance(m, dict)]
    overlaps = [o for o in found.get("overlaps") or [] if isinstance(o, dict)]
    agent = found.get("agent") or {}
    session_id = str(payload.get("session_id") or "")
    if not (questions or answers or messages or overlaps) and event not in ("SessionStart", "Stop"):
        return None  # the common case: nothing to read or write
    if deadline is not None:
        deadline.finish()
    state = load_state(worktree, identity.agent_id, session_id)
    if event == "SessionStart":
        state = SessionState(None, identity.agent_id, session_id)  # a new or resumed session
    result = _respond(event, found, agent, questions, answers, state, messages)
    if state.changed:
        save_state(worktree, state)
    if result is not None:
        delivered = [m["id"] for m in messages]
        delivered += [q["id"] for q in questions] + [a["id"] for a in answers]
        delivered += [f"overlap:{o.get('file')}:{o.get('agentName')}" for o in overlaps]
        log_line(
            worktree,
            provider,
            event,
            f"session {session_id}: delivered {' '.join(map(str, delivered))}",
        )
        return json.dumps(result, ensure_ascii=False)
    return None


def _respond(
    event: str,
    found: Mapping[str, Any],
    agent: Mapping[str, Any],
    questions: list[Any],
    answers: list[Any],
    state: SessionState,
    messages: list[Any],
) -> dict[str, Any] | None:
    """The JSON to print (``None``: nothing), updating ``state`` as it goes. What the
    person told the agent was handed out once by the server: it is always shown."""
    ids = [str(q.get("id")) for q in questions]
    if event == "Stop":
        return _stop(agent, questions, ids, state, messages)
    if event == "SessionStart":
        _mark_shown(state, ids)
        return hook_output(event, session_text(found, questions, answers, messages))
    fresh = [q for q in questions if str(q.get("id")) not in state.shown]
    questions[:] = fresh  # what is reported as delivered
    overlaps = [o for o in found.get("overlaps") or [] if isinstance(o, dict)]
    if not fresh and not answers and not messages and not overlaps:
        return None
    _mark_shown(state, [str(q.get("id")) for q in fresh])
    text = delivery_text(agent, fresh, answers, messages=messages)
    if overlaps:
        text = "\n\n".join(part for part in (overlap_text(overlaps), text) if part)
    return hook_output(event, text)


def _stop(
    agent: Mapping[str, Any],
    questions: list[Any],
    ids: list[str],
    state: SessionState,
    messages: list[Any],
) -> dict[str, Any] | None:
    """Block while questions wait (at most ``MAX_STOP_BLOCKS`` times in a row for the
    same ones), and always when the person's words just arrived: the agent reads them
    before it stops."""
    if not questions:
        if state.stop_ids:
            state.stop_ids, state.stop_blocks, state.changed = [], 0, True
        if messages:
            return {"decision": "block", "reason": stop_reason(agent, [], messages)}
        return None
    blocks = state.stop_blocks + 1 if state.stop_ids == ids else 1
    state.stop_ids, state.stop_blocks, state.changed = ids, blocks, True
    if blocks > MAX_STOP_BLOCKS:
        questions[:] = []  # it had its chances; an agent must never be trapped
        if messages:
            return {"decision": "block", "reason": stop_reason(agent, [], messages)}
        return None
    _mark_shown(state, ids)
    return {"decision": "block", "reason": stop_reason(agent, questions, messages)}


def _mark_shown(state: SessionState, ids: list[str]) -> None:
    new = [i for i in ids if i not in state.shown]
    if new:
        state.shown.extend(new)
        state.changed = True
