"""``agent.*``: registering an agent hands out its token, once.

``agent.spawn``, ``stop``, ``resume`` and ``clean`` drive the runner
(``docs/runner.md``): crosswalk starts the agent's CLI in new worktrees and follows it.
``agent.tell`` brings the person's words to an agent, resuming it when its run has ended.

Every procedure that takes an agent's ``id`` also accepts its name (agents are
addressed by name in ``cw``, as in ``conversation.ask``). An agent token may read
agents and change its own ``status`` (between idle, running and waiting_for_input)
and ``result``; the run's fields (``RUNNER_FIELDS``) are set by crosswalk's runner
and the administrator alone; everything else is the administrator's.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

from pydantic import AwareDatetime, Field

from crosswalk.domain.enums import ACTIVE_AGENT_STATUSES, AgentMode, AgentStatus
from crosswalk.domain.errors import ConflictError, ForbiddenError
from crosswalk.domain.rows import Agent, AgentUpdate, NewAgent
from crosswalk.runner import CleanedAgent, SpawnRequest
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    OptionalInput,
    UpdateInput,
    deleted_output,
    page_output,
    resolve_agent,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name, PathText
from crosswalk.server.serialize import camel, to_api, to_api_list
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

AgentName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.-]*$")]
Pid = Annotated[int, Field(ge=0, le=2**31 - 1)]
ClockTicks = Annotated[int, Field(ge=0, le=2**63 - 1)]
ExitCode = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]

#: What an agent may change about itself.
SELF_SERVICE_FIELDS = frozenset({"status", "result"})
#: The statuses an agent moves itself between; stopped and crashed are the runner's
#: and the administrator's word, which an agent may neither give nor take back.
SELF_STATUSES = frozenset(ACTIVE_AGENT_STATUSES)
#: What crosswalk's runner records of a run: no agent token sets them on any agent,
#: itself included, or a restarted runner would adopt a "run" of the agent's making.
RUNNER_FIELDS = frozenset(
    {
        "pid",
        "process_started_at",
        "output_file_path",
        "exit_code",
        "session_id",
        "account_id",
        "worktree_id",
        "provider",
    }
)


class CreateInput(ApiInput):
    name: AgentName | None = None
    task_id: Id | None = None
    initiative_id: Id | None = None
    worktree_id: PathText = "."
    provider: PathText = "claude"
    mode: AgentMode = AgentMode.EXECUTE
    status: AgentStatus = AgentStatus.IDLE
    session_id: PathText | None = None
    account_id: Id | None = None


class AgentRef(ApiInput):
    """``{id}``: an agent's id or name."""

    id: Name


class ListInput(OptionalInput):
    status: AgentStatus | None = None
    task_id: Id | None = None
    initiative_id: Id | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdateAgentInput(UpdateInput):
    """``id`` is the agent's id or name; fields left out are kept."""

    nullable: ClassVar[frozenset[str]] = frozenset(
        {
            "task_id",
            "initiative_id",
            "session_id",
            "account_id",
            "pid",
            "process_started_at",
            "exit_code",
            "output_file_path",
            "result",
            "pending_questions",
            "user_dismissed_at",
        }
    )

    id: Name
    name: AgentName | None = None
    status: AgentStatus | None = None
    mode: AgentMode | None = None
    task_id: Id | None = None
    initiative_id: Id | None = None
    session_id: PathText | None = None
    worktree_id: PathText | None = None
    provider: PathText | None = None
    account_id: Id | None = None
    pid: Pid | None = None
    process_started_at: ClockTicks | None = None
    exit_code: ExitCode | None = None
    output_file_path: PathText | None = None
    result: Any = None
    pending_questions: Any = None
    user_dismissed_at: AwareDatetime | None = None


#: What the runner owns while it runs the agent.
RUN_STATE_FIELDS = RUNNER_FIELDS | {"status"}

Prompt = Annotated[str, Field(min_length=1, max_length=100_000)]


class SpawnInput(ApiInput):
    task_id: Id
    provider: Name | None = None
    account_id: Id | None = None
    mode: AgentMode = AgentMode.EXECUTE
    prompt: Prompt | None = None


class ResumeInput(ApiInput):
    """``id`` is the agent's id or name; ``message`` the prompt (default: carry on)."""

    id: Name
    message: Prompt | None = None


class TellInput(ApiInput):
    """``id`` is the agent's id or name; ``message`` what the person tells it."""

    id: Name
    message: Prompt


class CleanInput(OptionalInput):
    """Without ``id``: every stopped or crashed agent's worktrees, and orphans; with
    ``idle``, idle agents' too (otherwise kept: they are resumed there to answer)."""

    id: Name | None = None
    delete_branch: bool = False
    idle: bool = False


class TaskInput(ApiInput):
    task_id: Id


class SessionInput(ApiInput):
    session_id: Name


def _with_token(agent: Agent, token: str) -> dict[str, Any]:
    return {**to_api(agent), "token": token}


@router.mutation("agent.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("register agents")
    agent, token = ctx.services.agents.register(
        NewAgent(
            name=inp.name,
            task_id=inp.task_id,
            initiative_id=inp.initiative_id,
            worktree_id=inp.worktree_id,
            provider=inp.provider,
            mode=inp.mode,
            status=inp.status,
            session_id=inp.session_id,
            account_id=inp.account_id,
        )
    )
    return _with_token(agent, token)


@router.query("agent.get", input=AgentRef)
async def get(ctx: Context, inp: AgentRef) -> dict[str, Any]:
    """The agent, with ``lastAnsweringRun``: its latest run resumed only to answer
    questions (session, questions, outcome, ``leftChanges`` it left uncommitted in its
    worktree), or null."""
    agent = resolve_agent(ctx, inp.id)
    runs = ctx.repos.answering_runs.find_by_agent(agent.id, limit=1)
    return {**to_api(agent), "lastAnsweringRun": to_api(runs[0]) if runs else None}


@router.query("agent.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.agents.list_page(
        status=inp.status,
        task_id=inp.task_id,
        initiative_id=inp.initiative_id,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return page_output(page)


@router.query("agent.byTask", input=TaskInput)
async def by_task(ctx: Context, inp: TaskInput) -> list[dict[str, Any]]:
    """The agents on the task, most recently updated first."""
    return to_api_list(ctx.repos.agents.find_by_task_id(inp.task_id))


@router.query("agent.bySession", input=SessionInput)
async def by_session(ctx: Context, inp: SessionInput) -> dict[str, Any] | None:
    """The agent of a CLI session (to resume it), or ``null`` when none has it."""
    agent = ctx.repos.agents.find_by_session_id(inp.session_id)
    return None if agent is None else to_api(agent)


@router.mutation("agent.update", input=UpdateAgentInput)
async def update(ctx: Context, inp: UpdateAgentInput) -> dict[str, Any]:
    """Changes exactly the fields sent. An agent token may update only itself, and only
    its ``status`` (between idle, running and waiting_for_input) and ``result``;
    FORBIDDEN names the first other field. ``outputFilePath`` must be a file the runner
    would read: ``<data dir>/agents/<agent id>/session-<n>.jsonl``."""
    agent = resolve_agent(ctx, inp.id)
    changes = inp.changes()
    if not ctx.principal.is_admin:
        _authorize_self_service(ctx, agent, changes)
    owned = sorted(changes.keys() & RUN_STATE_FIELDS)
    if owned and ctx.runtime.runner.is_running(agent.id):
        raise ConflictError(
            f"agent {agent.name} is run by crosswalk, which alone changes its "
            f"{camel(owned[0])} while it runs; stop it with 'cw agent stop {agent.name}'"
        )
    if changes.get("output_file_path") is not None:
        ctx.runtime.runner.check_output_file(agent.id, changes["output_file_path"])
    return to_api(ctx.services.agents.update(agent.id, cast(AgentUpdate, changes)))


def _authorize_self_service(ctx: Context, agent: Agent, changes: dict[str, Any]) -> None:
    """What an agent token may change: its own status and result, nothing of a run."""
    runners = sorted(changes.keys() & RUNNER_FIELDS)
    if runners:
        raise ForbiddenError(
            f"an agent may not set {camel(runners[0])}, of any agent or its own: crosswalk's "
            "runner records it (the administrator may correct it)"
        )
    ctx.principal.require_agent(agent.id)
    admin_only = sorted(changes.keys() - SELF_SERVICE_FIELDS)
    if admin_only:
        allowed = ", ".join(sorted(map(camel, SELF_SERVICE_FIELDS)))
        raise ForbiddenError(
            f"an agent may not change its own {camel(admin_only[0])}; only the "
            f"administrator may (an agent may change: {allowed})"
        )
    status = changes.get("status")
    if status is not None and (agent.status not in SELF_STATUSES or status not in SELF_STATUSES):
        raise ForbiddenError(
            f"an agent may move its own status only between idle, running and "
            f"waiting_for_input; agent {agent.name} is {agent.status.value} and asked for "
            f"{status.value}: only the runner or the administrator may"
        )


@router.mutation("agent.delete", input=AgentRef, waits=True)
async def delete(ctx: Context, inp: AgentRef) -> dict[str, Any]:
    """Deletes the agent with its conversations and proposals; its messages are
    detached and its log chunks kept. ``removed`` counts each."""
    ctx.principal.require_admin("delete agents")
    offload = ctx.services.offload
    agent = await ctx.runtime.runner.delete((await offload(resolve_agent, ctx, inp.id)).id)
    agent, removed = await offload(ctx.services.agents.delete, agent.id)
    return deleted_output(agent, removed)


@router.mutation("agent.rotateToken", input=AgentRef)
async def rotate_token(ctx: Context, inp: AgentRef) -> dict[str, Any]:
    """A new token for the agent (returned once); the old one stops working at once.
    An agent may rotate its own token, e.g. after it leaked."""
    agent = resolve_agent(ctx, inp.id)
    ctx.principal.require_agent(agent.id)
    agent, token = ctx.services.agents.rotate_token(agent.id)
    return _with_token(agent, token)


@router.mutation("agent.spawn", input=SpawnInput, waits=True)
async def spawn(ctx: Context, inp: SpawnInput) -> dict[str, Any]:
    """Start an agent on the task: worktrees (one per project of the task's initiative)
    on a new branch, the next available account, the provider's CLI running in them.
    Returns the agent, ``running``. CONFLICT when the task already has an active agent."""
    ctx.principal.require_admin("spawn agents")
    agent = await ctx.runtime.runner.spawn(
        SpawnRequest(
            task_id=inp.task_id,
            provider=inp.provider,
            account_id=inp.account_id,
            mode=inp.mode,
            prompt=inp.prompt,
        )
    )
    return to_api(agent)


@router.mutation("agent.stop", input=AgentRef, waits=True)
async def stop(ctx: Context, inp: AgentRef) -> dict[str, Any]:
    """SIGTERM to the agent's process group, SIGKILL after a grace period; returns the
    agent, ``stopped``."""
    ctx.principal.require_admin("stop agents")
    agent = await ctx.services.offload(resolve_agent, ctx, inp.id)
    return to_api(await ctx.runtime.runner.stop(agent.id))


@router.mutation("agent.resume", input=ResumeInput, waits=True)
async def resume(ctx: Context, inp: ResumeInput) -> dict[str, Any]:
    """Run the agent again in its CLI session, with ``message`` as the prompt; its log
    gets the next session number. Returns the agent, ``running``."""
    ctx.principal.require_admin("resume agents")
    agent = await ctx.services.offload(resolve_agent, ctx, inp.id)
    return to_api(await ctx.runtime.runner.resume(agent.id, inp.message))


@router.mutation("agent.tell", input=TellInput, waits=True)
async def tell(ctx: Context, inp: TellInput) -> dict[str, Any]:
    """The person tells the agent something. An agent with a process (``running``,
    ``waiting_for_input``), or one registered by hand, gets it at its next hook, once
    (``agent.checkIn``'s ``messages``); one crosswalk ran whose run has ended is resumed
    in its session with it as the prompt. Either way it is recorded as a message from
    the user to the agent (``read`` once handed over). Returns ``{message, agent,
    delivery}``, ``delivery`` being ``next_hook`` (it is working), ``next_session``
    (registered by hand and not working: its session's next hook) or ``resumed``.
    Admin only: the person's word."""
    ctx.principal.require_admin("tell agents something as the person")
    agent = await ctx.services.offload(resolve_agent, ctx, inp.id)
    told = await ctx.runtime.telling.tell(agent.id, inp.message)
    return {
        "message": to_api(told.message),
        "agent": to_api(told.agent),
        "delivery": told.delivery.value,
    }


@router.mutation("agent.clean", input=CleanInput, waits=True)
async def clean(ctx: Context, inp: CleanInput) -> dict[str, Any]:
    """Remove worktrees (their branches stay unless ``deleteBranch``): the agent's, or
    without ``id`` those of every stopped or crashed agent and of deleted agents. An
    idle agent's worktree (where it is resumed to answer questions) goes only with
    ``idle``. Returns ``{cleaned: [{agentId, agentName, worktrees}]}``."""
    ctx.principal.require_admin("clean agents' worktrees")
    agent_id = (
        None if inp.id is None else (await ctx.services.offload(resolve_agent, ctx, inp.id)).id
    )
    cleaned = await ctx.runtime.runner.clean(
        agent_id, delete_branch=inp.delete_branch, idle=inp.idle
    )
    return {"cleaned": [_cleaned(entry) for entry in cleaned]}


def _cleaned(entry: CleanedAgent) -> dict[str, Any]:
    return {"agentId": entry.agent_id, "agentName": entry.agent_name, "worktrees": entry.worktrees}
