"""``message.*``: messages between agents and the user, threaded; questions to the user.

A participant is a ``(type, id)`` pair: an agent by its id (or name, on input), the
user with no id. An agent token sends only as itself and reads only messages it sent
or received. The person is the administrator: the inbox, replies and housekeeping
(update, delete) are theirs.

Questions to the user (``askUser`` -> ``waitForReply`` <- ``reply``) go through
``crosswalk.services.human_questions``, which keeps the asking agent's status and
``pendingQuestions`` in step and wakes the waiting agent the moment the reply commits.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from crosswalk.domain.enums import MessageStatus, MessageType, ParticipantType
from crosswalk.domain.errors import ForbiddenError, InvalidInputError
from crosswalk.domain.rows import Message, MessageUpdate, NewMessage
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    agent_id_of,
    deleted_output,
    page_output,
    resolve_agent,
)
from crosswalk.server.procedures._inputs import (
    ApiInput,
    ClientId,
    Id,
    Limit,
    Name,
    Text,
    TimeoutMs,
)
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router
from crosswalk.services.human_questions import ReplyState, authorize_threaded

router: Router[Context] = Router()

AGENT, USER = ParticipantType.AGENT, ParticipantType.USER
DEFAULT_TIMEOUT_MS = 30_000
#: Deepest thread ``thread`` climbs to find the root (replies of replies of ...).
MAX_THREAD_DEPTH = 1000


class CreateInput(ApiInput):
    """Types default from the ids: an id means an agent, none means the user. With an
    agent token the sender defaults to (and must be) that agent."""

    content: Text
    sender_type: ParticipantType | None = None
    sender_id: Name | None = None
    recipient_type: ParticipantType | None = None
    recipient_id: Name | None = None
    type: MessageType = MessageType.INFO
    requires_response: bool = False
    parent_message_id: Id | None = None


class ListInput(OptionalInput):
    sender_type: ParticipantType | None = None
    sender_id: Name | None = None
    recipient_type: ParticipantType | None = None
    recipient_id: Name | None = None
    status: MessageStatus | None = None
    parent_message_id: Id | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdateMessageInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset()

    content: Text | None = None
    type: MessageType | None = None
    requires_response: bool | None = None
    status: MessageStatus | None = None


class AskUserInput(ApiInput):
    agent_id: Name
    content: Text
    id: ClientId | None = None  # client-chosen, makes a retried ask idempotent


class WaitInput(ApiInput):
    id: Id
    timeout_ms: TimeoutMs = DEFAULT_TIMEOUT_MS


class ReplyInput(ApiInput):
    id: Id
    content: Text


def _participant(
    ctx: Context, role: str, kind: ParticipantType | None, id_or_name: str | None
) -> tuple[ParticipantType, str | None]:
    """``(type, agent id)`` from what was sent; an agent given by name is resolved."""
    kind = kind or (USER if id_or_name is None else AGENT)
    if kind is USER:
        if id_or_name is not None:
            raise InvalidInputError(
                f"{role}Id: the user has no id; leave it out (or say {role}Type 'agent')",
                field=f"{role}Id",
            )
        return USER, None
    if id_or_name is None:
        raise InvalidInputError(f"{role}Id: an agent {role} needs its id", field=f"{role}Id")
    return AGENT, resolve_agent(ctx, id_or_name).id


def _require_participant(ctx: Context, message: Message) -> None:
    ctx.principal.require_any(
        tuple(i for i in (message.sender_id, message.recipient_id) if i is not None),
        f"message '{message.id}'",
    )


def _reply_state(state: ReplyState) -> dict[str, Any]:
    reply = None if state.reply is None else to_api(state.reply)
    return {"question": to_api(state.question), "reply": reply}


def _tree(root: Message, below: list[Message]) -> dict[str, Any]:
    """``root`` with ``replies`` nested at every depth, each level oldest first."""
    children: dict[str, list[Message]] = {}
    for message in below:  # oldest first, so each list stays in order
        if message.parent_message_id is not None:
            children.setdefault(message.parent_message_id, []).append(message)

    def node(message: Message) -> dict[str, Any]:
        return {
            **to_api(message),
            "replies": [node(child) for child in children.get(message.id, [])],
        }

    return node(root)


@router.mutation("message.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    """A plain message (info, error, question, response); for a question that the
    asking agent waits on, use ``askUser``, and ``reply`` to answer one."""
    sender_type, sender_id = inp.sender_type, inp.sender_id
    if ctx.principal.agent_id is not None and sender_type is None and sender_id is None:
        sender_type, sender_id = AGENT, ctx.principal.agent_id
    sender = _participant(ctx, "sender", sender_type, sender_id)
    recipient = _participant(ctx, "recipient", inp.recipient_type, inp.recipient_id)
    if sender[0] is USER and recipient[0] is USER:
        raise InvalidInputError(
            "recipientType: the user cannot send a message to the user; address an agent "
            "(recipientId), or send as an agent (senderId)",
            field="recipientType",
        )
    if not ctx.principal.is_admin and sender != (AGENT, ctx.principal.agent_id):
        raise ForbiddenError(
            f"this token belongs to agent '{ctx.principal.agent_id}' and sends only as it"
        )
    if inp.parent_message_id is not None:
        parent = ctx.repos.messages.get(inp.parent_message_id)
        authorize_threaded(ctx.principal, parent, inp.type)
    message = ctx.services.human_questions.send(
        NewMessage(
            sender_type=sender[0],
            sender_id=sender[1],
            recipient_type=recipient[0],
            recipient_id=recipient[1],
            type=inp.type,
            content=inp.content,
            requires_response=inp.requires_response,
            parent_message_id=inp.parent_message_id,
        )
    )
    return to_api(message)


@router.query("message.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    message = ctx.repos.messages.get(inp.id)
    _require_participant(ctx, message)
    return to_api(message)


@router.query("message.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    """Messages matching every filter given, oldest first. An agent token lists only
    its own: it must filter by itself as sender or recipient (recipient by default)."""
    sender_id = None if inp.sender_id is None else agent_id_of(ctx, inp.sender_id)
    recipient_id = None if inp.recipient_id is None else agent_id_of(ctx, inp.recipient_id)
    me = ctx.principal.agent_id
    if me is not None:
        if sender_id is None and recipient_id is None:
            recipient_id = me
        if me not in (sender_id, recipient_id):
            raise ForbiddenError(
                f"agent '{me}' may list only its own messages: filter by senderId or "
                "recipientId set to itself"
            )
    page = ctx.repos.messages.list_page(
        sender_type=inp.sender_type,
        sender_id=sender_id,
        recipient_type=inp.recipient_type,
        recipient_id=recipient_id,
        status=inp.status,
        parent_message_id=inp.parent_message_id,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return page_output(page)


@router.mutation("message.update", input=UpdateMessageInput)
async def update(ctx: Context, inp: UpdateMessageInput) -> dict[str, Any]:
    ctx.principal.require_admin("change messages")
    changes = cast(MessageUpdate, inp.changes())
    return to_api(ctx.services.human_questions.update(inp.id, changes))


@router.mutation("message.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the message and every reply below it (``removed.replies``); an agent
    waiting for a reply to it is woken and told it is gone."""
    ctx.principal.require_admin("delete messages")
    message, removed = ctx.services.human_questions.delete(inp.id)
    return deleted_output(message, removed)


@router.query("message.thread", input=IdInput)
async def thread(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """The whole thread the message belongs to, from its root: the root message with
    ``replies`` nested at every depth, each level oldest first."""
    messages = ctx.repos.messages
    message = messages.get(inp.id)
    _require_participant(ctx, message)
    root = message
    for _ in range(MAX_THREAD_DEPTH):
        if root.parent_message_id is None:
            break
        root = messages.get(root.parent_message_id)
    return _tree(root, messages.find_thread(root.id))


@router.query("message.pendingForUser")
async def pending_for_user(ctx: Context, inp: None) -> list[dict[str, Any]]:
    """Messages to the user still ``pending``, oldest first."""
    ctx.principal.require_admin("read the user's messages")
    return to_api_list(ctx.repos.messages.find_pending_for_user())


@router.query("message.requiringResponse")
async def requiring_response(ctx: Context, inp: None) -> list[dict[str, Any]]:
    """Messages that need a response and have none yet, oldest first."""
    ctx.principal.require_admin("read every message awaiting a response")
    return to_api_list(ctx.repos.messages.find_requiring_response())


@router.mutation("message.markRead", input=IdInput)
async def mark_read(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """pending -> read, by the recipient (the administrator for the user). A message
    already read or responded to stays as it is."""
    message = ctx.repos.messages.get(inp.id)
    if message.recipient_type is USER or message.recipient_id is None:
        ctx.principal.require_admin("mark the user's messages read")
    else:
        ctx.principal.require_agent(message.recipient_id)
    return to_api(ctx.services.human_questions.mark_read(message))


@router.query("message.inbox")
async def inbox(ctx: Context, inp: None) -> list[dict[str, Any]]:
    """Every message waiting for the user, oldest first, each with ``senderName``
    (``crosswalk`` for the server's own questions; ``null`` for an agent since
    deleted)."""
    ctx.principal.require_admin("read the user's inbox")
    waiting = ctx.services.human_questions.inbox()
    names: dict[str, str | None] = {}
    for sender_id in {m.sender_id for m in waiting if m.sender_id is not None}:
        agent = ctx.repos.agents.find_by_id(sender_id)
        names[sender_id] = None if agent is None else agent.name
    return [{**to_api(m), "senderName": _sender_name(m, names)} for m in waiting]


def _sender_name(message: Message, names: dict[str, str | None]) -> str | None:
    """The agent's name; ``crosswalk`` for the server's own questions (a checkpoint, a
    merge conflict), which it sends as the user."""
    if message.sender_id is not None:
        return names.get(message.sender_id)
    return "crosswalk" if message.sender_type is ParticipantType.USER else None


@router.mutation("message.askUser", input=AskUserInput)
async def ask_user(ctx: Context, inp: AskUserInput) -> dict[str, Any]:
    """An agent asks the person a question (type ``question``, requires a response);
    the agent is ``waiting_for_input`` until it is answered. Returns the message."""
    agent = resolve_agent(ctx, inp.agent_id)
    ctx.principal.require_agent(agent.id)
    return to_api(ctx.services.human_questions.ask(agent.id, inp.content, id=inp.id))


@router.query("message.waitForReply", input=WaitInput, waits=True)
async def wait_for_reply(ctx: Context, inp: WaitInput) -> dict[str, Any]:
    """Long poll: ``{question, reply}`` as soon as the question is responded to, or
    with ``reply: null`` when ``timeoutMs`` passes first. A reply given to the agent it
    answers is ``read`` from then on: its hooks do not hand it over again."""
    _require_participant(ctx, await ctx.services.offload(ctx.repos.messages.get, inp.id))
    questions = ctx.services.human_questions
    state = await questions.wait_for_reply(inp.id, inp.timeout_ms / 1000)
    handed = await ctx.services.offload(questions.handed_over, state, ctx.principal.agent_id)
    return _reply_state(handed)


@router.mutation("message.reply", input=ReplyInput, waits=True)
async def reply(ctx: Context, inp: ReplyInput) -> dict[str, Any]:
    """The person replies to a message addressed to them: ``{question, reply}``. The
    waiting agent wakes at once; one that is not waiting gets the reply at its next
    hook, or, when crosswalk ran it and its run has ended, is resumed with the reply as
    the prompt (the reply is then ``read``). A second reply is CONFLICT."""
    ctx.principal.require_admin("reply as the user")
    question, answer = await ctx.runtime.telling.reply(inp.id, inp.content)
    return _reply_state(ReplyState(question, answer))
