"""``conversation.*``: ask, listen, answer, wait (``docs/contract.md``, Conversations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, assert_never

from pydantic import PrivateAttr, model_validator

from crosswalk.domain.enums import ConversationStatus, TargetKind
from crosswalk.domain.rows import Conversation
from crosswalk.domain.targets import AgentTarget, FileTarget, PhaseTarget, Target, TaskTarget
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import IdInput, OptionalInput
from crosswalk.server.procedures._inputs import (
    ApiInput,
    ClientId,
    Id,
    Limit,
    LineNumber,
    RepoPath,
    Text,
    TimeoutMs,
    is_client_id,
)
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router, Tracked
from crosswalk.target_kinds import CONVERSATION_KINDS, target_fields

router: Router[Context] = Router()

DEFAULT_TIMEOUT_MS = 30_000


class AskInput(ApiInput):
    """An ask names exactly one target: the fields of one kind of
    ``crosswalk.target_kinds`` (``file`` with an optional ``line``), read into the one
    ``Target`` (a tagged union) the services resolve."""

    #: The asking agent; left out with the admin token, the person asks.
    from_agent_id: Id | None = None
    question: Text
    to_agent_id: Id | None = None
    task_id: Id | None = None
    phase_id: Id | None = None
    file: RepoPath | None = None  # relative to the repository root
    line: LineNumber | None = None  # with ``file``: the line asked about
    id: ClientId | None = None  # client-chosen, makes a retried ask idempotent
    deliver_answer: bool = False  # the asker will not wait: its hooks deliver the answer
    _target: Target = PrivateAttr()

    @model_validator(mode="after")
    def _one_target(self) -> AskInput:
        given = [kind for kind in CONVERSATION_KINDS if self._given(kind.wire[0])]
        if len(given) != 1:
            raise ValueError(f"give exactly one target: {target_fields()}")
        kind = TargetKind(given[0].kind)
        extra = [name for name in _REFINEMENTS if self._given(name) and name not in given[0].wire]
        if extra:
            raise ValueError(f"{extra[0]} goes only with {_REFINEMENTS[extra[0]]}")
        self._target = _target_of(self, kind)
        return self

    def _given(self, wire_name: str) -> bool:
        return getattr(self, _FIELD_OF[wire_name]) is not None

    @property
    def target(self) -> Target:
        return self._target


#: Each wire field of a target kind, as ``AskInput`` names it.
_FIELD_OF = {
    "toAgentId": "to_agent_id",
    "taskId": "task_id",
    "phaseId": "phase_id",
    "file": "file",
    "line": "line",
}
#: Fields that refine a target and the kind's field they go with.
_REFINEMENTS = {name: kind.wire[0] for kind in CONVERSATION_KINDS for name in kind.wire[1:]}


def _target_of(inp: AskInput, kind: TargetKind) -> Target:
    """The one ``Target`` of ``kind`` an ask whose fields were checked names."""
    match kind:
        case TargetKind.AGENT:
            return AgentTarget(_given(inp.to_agent_id))
        case TargetKind.TASK:
            return TaskTarget(_given(inp.task_id))
        case TargetKind.PHASE:
            return PhaseTarget(_given(inp.phase_id))
        case TargetKind.FILE:
            return FileTarget(_given(inp.file), inp.line)
        case _:
            assert_never(kind)


def _given(value: str | None) -> str:
    assert value is not None, "checked by AskInput"
    return value


class AgentInput(ApiInput):
    agent_id: Id


class PendingInput(ApiInput):
    agent_id: Id
    after_id: Id | None = None  # the last id of the previous page: the next page


class ListenInput(ApiInput):
    agent_id: Id
    timeout_ms: TimeoutMs = DEFAULT_TIMEOUT_MS
    after_id: Id | None = None


class AnswerInput(ApiInput):
    id: Id
    answer: Text
    agent_id: Id | None = None


class WaitInput(ApiInput):
    id: Id
    timeout_ms: TimeoutMs = DEFAULT_TIMEOUT_MS


class ListInput(OptionalInput):
    agent_id: Id | None = None
    status: ConversationStatus | None = None
    initiative_id: Id | None = None
    phase_id: Id | None = None
    task_id: Id | None = None
    limit: Limit = 50
    cursor: str | None = None


class OnQuestionInput(ApiInput):
    agent_id: Id
    last_event_id: Id | None = None  # merged in by the wire layer on reconnect


class OnAnswerInput(ApiInput):
    id: Id
    last_event_id: Id | None = None


def _named(
    ctx: Context,
    conversations: list[Conversation],
    known: dict[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """Conversations as API objects plus ``fromAgentName`` and ``toAgentName``, so
    whoever reads a question sees who asks. Names are looked up once per request: the
    caller's own is known from its token, an agent that made a request lately is in
    the token cache (current: any change to an agent evicts it), others are read.
    ``known``: the first two, when the caller has gathered them already."""
    names = _known_names(ctx, conversations) if known is None else known
    for conversation in conversations:
        for agent_id in _parties(conversation):
            if agent_id not in names:
                agent = ctx.repos.agents.find_by_id(agent_id)
                names[agent_id] = agent.name if agent is not None else None
    return [
        {
            **to_api(conversation),
            "fromAgentName": (
                None if conversation.from_agent_id is None else names[conversation.from_agent_id]
            ),
            "toAgentName": names[conversation.to_agent_id],
        }
        for conversation in conversations
    ]


def _parties(conversation: Conversation) -> tuple[str, ...]:
    """The agents of a conversation: the asked one, and the asker unless the person asked."""
    if conversation.from_agent_id is None:
        return (conversation.to_agent_id,)
    return (conversation.from_agent_id, conversation.to_agent_id)


async def _named_off_loop(ctx: Context, conversations: list[Conversation]) -> list[Any]:
    """``_named`` for a handler that waits: off the loop only when a name must be read
    (on PostgreSQL each hop to a worker thread costs more than the naming itself)."""
    names = _known_names(ctx, conversations)
    if all(
        agent_id in names for conversation in conversations for agent_id in _parties(conversation)
    ):
        return _named(ctx, conversations, names)
    return await ctx.services.offload(_named, ctx, conversations, names)


def _known_names(ctx: Context, conversations: list[Conversation]) -> dict[str, str | None]:
    """The names of the conversations' agents known without a read (see ``_named``)."""
    own = ctx.principal.agent
    names: dict[str, str | None] = {own.id: own.name} if own is not None else {}
    recent = ctx.services.authenticator.cache.by_id
    for conversation in conversations:
        for agent_id in _parties(conversation):
            if agent_id not in names and (agent := recent(agent_id)) is not None:
                names[agent_id] = agent.name
    return names


def _participant(ctx: Context, conversation: Conversation) -> None:
    ctx.principal.require_any(_parties(conversation), f"conversation '{conversation.id}'")


@router.mutation("conversation.ask", input=AskInput)
async def ask(ctx: Context, inp: AskInput) -> dict[str, Any]:
    """Asks a question as ``fromAgentId`` of exactly one target: an agent (id or name),
    whoever works ``taskId``, the one other agent in ``phaseId``, or the agent of the
    asker's initiative whose work changed ``file`` (at ``line``). Without ``fromAgentId``
    an agent token asks as its agent and the admin token as the person (``fromAgentId``
    null in the conversation). A retried ask with the same ``id`` returns the stored
    conversation. With ``deliverAnswer`` the answer is also handed to the asker's hooks
    once (``agent.checkIn``). ``notice`` (present only then) says why the answer may be
    late: the agent waits for an account until a given time, or it is idle and no server
    can resume it."""
    asker = inp.from_agent_id or ctx.principal.agent_id
    if asker is not None:
        ctx.principal.require_agent(asker)
    asked = ctx.services.conversations.ask_of(
        asker,
        inp.question,
        inp.target,
        id=inp.id,
        deliver_answer=inp.deliver_answer,
        asker=None if asker is None else ctx.principal.known(asker),
    )
    answerer, conversation = asked.answerer, asked.conversation
    notice = None if answerer is None else ctx.runtime.answering.notice(answerer)
    return {**to_api(conversation), "notice": notice} if notice else to_api(conversation)


@router.query("conversation.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """One conversation, for its two agents (or the admin)."""
    conversation = ctx.services.conversations.get(inp.id)
    _participant(ctx, conversation)
    return _named(ctx, [conversation])[0]


@router.query("conversation.pending", input=PendingInput)
async def pending(ctx: Context, inp: PendingInput) -> list[dict[str, Any]]:
    """The questions waiting for the agent's answer, oldest first: one page (at most
    ``CW_PAGE_SIZE``); pass the last id as ``afterId`` for the next."""
    ctx.principal.require_agent(inp.agent_id)
    found = ctx.services.conversations.pending(inp.agent_id, after_id=inp.after_id)
    return _named(ctx, found)


@router.query("conversation.listen", input=ListenInput, waits=True)
async def listen(ctx: Context, inp: ListenInput) -> list[dict[str, Any]]:
    """Long poll: a page of the agent's pending questions (as ``pending``, ``afterId``
    included) at once if any, else as soon as one arrives, else ``[]`` after
    ``timeoutMs``."""
    ctx.principal.require_agent(inp.agent_id)
    found = await ctx.services.conversations.listen(
        inp.agent_id,
        inp.timeout_ms / 1000,
        after_id=inp.after_id,
        agent=ctx.principal.known(inp.agent_id),
    )
    return await _named_off_loop(ctx, found)


@router.mutation("conversation.answer", input=AnswerInput)
async def answer(ctx: Context, inp: AnswerInput) -> dict[str, Any]:
    """Answers a question addressed to you; a second answer is CONFLICT."""
    acting = inp.agent_id
    if ctx.principal.agent_id is not None:
        if acting is not None:
            ctx.principal.require_agent(acting)
        acting = ctx.principal.agent_id
    answered = ctx.services.conversations.answer(inp.id, inp.answer, acting_agent_id=acting)
    return to_api(answered)


@router.query("conversation.waitForAnswer", input=WaitInput, waits=True)
async def wait_for_answer(ctx: Context, inp: WaitInput) -> dict[str, Any]:
    """Long poll: the conversation as soon as it is answered, or still pending after
    ``timeoutMs``."""
    found = await ctx.services.conversations.wait_for_answer(
        inp.id, inp.timeout_ms / 1000, check=lambda conversation: _participant(ctx, conversation)
    )
    return to_api(found)


@router.query("conversation.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    """Conversations newest first, filtered; an agent sees only its own."""
    agent_id = inp.agent_id
    if ctx.principal.agent_id is not None:
        agent_id = agent_id or ctx.principal.agent_id
        ctx.principal.require_agent(agent_id)
    page = ctx.repos.conversations.list_page(
        agent_id=agent_id,
        status=inp.status,
        initiative_id=inp.initiative_id,
        phase_id=inp.phase_id,
        task_id=inp.task_id,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return {"items": _named(ctx, page.items), "nextCursor": page.next_cursor}


@router.subscription("conversation.onQuestion", input=OnQuestionInput)
async def on_question(
    ctx: Context, inp: OnQuestionInput
) -> AsyncIterator[Tracked | dict[str, Any]]:
    """Subscription: every pending question for the agent, then each new one, tracked
    by conversation id so a reconnect resumes after the last one seen."""
    ctx.principal.require_agent(inp.agent_id)
    stream = ctx.services.conversations.question_stream(inp.agent_id, inp.last_event_id)
    async for conversation in stream:
        data = (await _named_off_loop(ctx, [conversation]))[0]
        # An id stored before ids were checked may not be usable as an SSE event id:
        # send that one untracked rather than break the agent's stream.
        yield Tracked(conversation.id, data) if is_client_id(conversation.id) else data


@router.subscription("conversation.onAnswer", input=OnAnswerInput)
async def on_answer(ctx: Context, inp: OnAnswerInput) -> AsyncIterator[dict[str, Any]]:
    """Subscription: the conversation once it is answered, then the stream ends."""
    _participant(ctx, await ctx.services.offload(ctx.services.conversations.get, inp.id))
    async for conversation in ctx.services.conversations.answer_stream(inp.id):
        yield to_api(conversation)
