"""``agent.checkIn``: what ``cw hook`` calls at every hook event (docs/hooks.md)."""

from __future__ import annotations

from typing import Any

from crosswalk.domain.rows import Conversation, OverlapNotice
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router
from crosswalk.services.check_in import Activity

router: Router[Context] = Router()


class CheckInInput(ApiInput):
    agent_id: Id
    activity: Activity | None = None
    take_answers: bool = False
    take_messages: bool = False
    with_task: bool = False


def _asked(ctx: Context, conversations: list[Conversation]) -> list[dict[str, Any]]:
    """Conversations plus who asked: ``fromAgentName``, ``fromTaskId``, ``fromTaskName``
    (all null, as ``fromAgentId``, when the person asked)."""
    askers: dict[str | None, dict[str, Any]] = {
        None: {"fromAgentName": None, "fromTaskId": None, "fromTaskName": None}
    }

    def asker(agent_id: str | None) -> dict[str, Any]:
        if agent_id not in askers and agent_id is not None:
            agent = ctx.repos.agents.find_by_id(agent_id)
            task = None
            if agent is not None and agent.task_id is not None:
                task = ctx.repos.tasks.find_by_id(agent.task_id)
            askers[agent_id] = {
                "fromAgentName": agent.name if agent is not None else None,
                "fromTaskId": task.id if task is not None else None,
                "fromTaskName": task.name if task is not None else None,
            }
        return askers[agent_id]

    return [{**to_api(c), **asker(c.from_agent_id)} for c in conversations]


def _answered(ctx: Context, conversations: list[Conversation]) -> list[dict[str, Any]]:
    names: dict[str, str | None] = {}
    for c in conversations:
        if c.to_agent_id not in names:
            agent = ctx.repos.agents.find_by_id(c.to_agent_id)
            names[c.to_agent_id] = agent.name if agent is not None else None
    return [{**to_api(c), "toAgentName": names[c.to_agent_id]} for c in conversations]


def _overlapping(ctx: Context, notices: list[OverlapNotice]) -> list[dict[str, Any]]:
    """Each notice as the hook shows it: the file and the other agent, by name and task."""
    shown = []
    for notice in notices:
        other = ctx.repos.agents.find_by_id(notice.other_agent_id)
        if other is None:
            continue
        task = ctx.repos.tasks.find_by_id(other.task_id) if other.task_id else None
        shown.append(
            {
                "file": notice.path,
                "agentId": other.id,
                "agentName": other.name,
                "taskId": task.id if task is not None else None,
                "taskName": task.name if task is not None else None,
            }
        )
    return shown


@router.mutation("agent.checkIn", input=CheckInInput)
async def check_in(ctx: Context, inp: CheckInInput) -> dict[str, Any]:
    """Reports the agent's ``activity`` (``session_start``, ``prompt``, ``tool``, ``stop``;
    its status follows as the server decides) and returns ``{agent, task, questions,
    answers, messages, overlaps}``: the questions waiting for its answer (oldest first,
    with the asker's name and task); with ``takeAnswers``, the answers to its
    ``--no-wait`` questions and the files another agent's unmerged work changed too
    (``{file, agentId, agentName, taskId, taskName}``), not delivered before (they count
    as delivered now); with ``takeMessages``, the messages the person sent it
    (``agent.tell``) not handed over before (they are ``read`` now). ``task`` is filled
    in with ``withTask``. An agent checks in only as itself."""
    ctx.principal.require_agent(inp.agent_id)
    found = ctx.services.check_in.check_in(
        inp.agent_id,
        inp.activity,
        take_answers=inp.take_answers,
        take_messages=inp.take_messages,
        with_task=inp.with_task,
    )
    if inp.activity is Activity.TOOL:
        ctx.runtime.ownership.touch(found.agent.id)  # the tool may have changed files
    task = found.task
    return {
        "agent": to_api(found.agent),
        "task": (
            None
            if task is None
            else {"id": task.id, "name": task.name, "description": task.description}
        ),
        "questions": _asked(ctx, found.questions),
        "answers": _answered(ctx, found.answers),
        "messages": to_api_list(found.messages),
        "overlaps": _overlapping(ctx, found.overlaps),
    }
