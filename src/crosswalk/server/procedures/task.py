"""``task.*``: tasks, their dependencies and subtasks, approval, and what is ready.

Approval gates the merge, not the start: new tasks start ``pending`` and are
``task.ready`` once their dependencies (and their phase's dependencies) are
completed. When an agent's run on a task succeeds and the task's effective approval
(its ``requiresApproval``, else its initiative's ``mergeRequiresApproval``) is
required, the task waits in ``pending_approval``; ``task.approve`` merges its work
and completes it. Single-task outputs carry ``requiresApprovalEffective``. Every
status change goes through the task state service (the phase follows).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

from pydantic import Field

from crosswalk.domain.enums import TaskCategory, TaskPriority, TaskStatus, TaskType
from crosswalk.domain.rows import NewTask, Task, TaskUpdate
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    RefInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.task_diff import task_diff_to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

Description = Annotated[str, Field(max_length=100_000)]
Order = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class CreateInput(ApiInput):
    name: Name
    phase_id: Id | None = None
    initiative_id: Id | None = None
    parent_task_id: Id | None = None
    description: Description | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    requires_approval: bool | None = None
    order: Order = 0
    status: TaskStatus = TaskStatus.PENDING


class ListInput(OptionalInput):
    initiative_id: Id | None = None
    phase_id: Id | None = None
    parent_task_id: Id | None = None
    status: TaskStatus | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdateTaskInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"description", "requires_approval", "parent_task_id", "phase_id"}
    )

    name: Name | None = None
    description: Description | None = None
    type: TaskType | None = None
    category: TaskCategory | None = None
    priority: TaskPriority | None = None
    status: TaskStatus | None = None
    order: Order | None = None
    requires_approval: bool | None = None  # null: inherit the initiative's
    parent_task_id: Id | None = None  # null: no longer a subtask
    phase_id: Id | None = None  # null: in no phase


class DependencyInput(ApiInput):
    task_id: Id
    depends_on_task_id: Id


class InitiativeFilter(OptionalInput):
    initiative_id: Id | None = None


class DiffInput(ApiInput):
    id: Id
    patch: bool = True


class RejectInput(ApiInput):
    id: Id
    comment: Annotated[str, Field(min_length=1, max_length=100_000)]


class ReadyInput(OptionalInput):
    initiative_id: Id | None = None
    phase_id: Id | None = None


def _with_approval(ctx: Context, task: Task) -> dict[str, Any]:
    return {**to_api(task), "requiresApprovalEffective": ctx.repos.tasks.requires_approval(task.id)}


@router.mutation("task.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create tasks")
    task = ctx.services.planning.create_task(
        NewTask(
            name=inp.name,
            phase_id=inp.phase_id,
            initiative_id=inp.initiative_id,
            parent_task_id=inp.parent_task_id,
            description=inp.description,
            type=inp.type,
            category=inp.category,
            priority=inp.priority,
            requires_approval=inp.requires_approval,
            order=inp.order,
            status=inp.status,
        )
    )
    return _with_approval(ctx, task)


@router.query("task.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return _with_approval(ctx, ctx.repos.tasks.get(inp.id))


@router.query("task.resolve", input=RefInput)
async def resolve(ctx: Context, inp: RefInput) -> dict[str, Any]:
    """The task ``ref`` names: its id, its name, or the start of its id. Several
    tasks with that name or id start is BAD_REQUEST listing them (name and id);
    none is NOT_FOUND. ``cw`` resolves every task it is given this way."""
    return _with_approval(ctx, ctx.services.planning.resolve_task(inp.ref))


@router.query("task.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.tasks.list_page(
        initiative_id=inp.initiative_id,
        phase_id=inp.phase_id,
        parent_task_id=inp.parent_task_id,
        status=inp.status,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return page_output(page)


@router.mutation("task.update", input=UpdateTaskInput)
async def update(ctx: Context, inp: UpdateTaskInput) -> dict[str, Any]:
    """Changes exactly the fields sent. The status moves freely (``approve`` is the
    checked way out of ``pending_approval``, with a merge); the phase follows."""
    ctx.principal.require_admin("change tasks")
    task = ctx.services.planning.update_task(inp.id, cast(TaskUpdate, inp.changes()))
    return _with_approval(ctx, task)


@router.mutation("task.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the task with its subtasks; ``removed`` counts them, the dependencies
    that went with them, and the agents and conversations detached."""
    ctx.principal.require_admin("delete tasks")
    task, removed = ctx.services.planning.delete_task(inp.id)
    return deleted_output(task, removed)


@router.mutation("task.addDependency", input=DependencyInput)
async def add_dependency(ctx: Context, inp: DependencyInput) -> dict[str, Any]:
    """``taskId`` waits for ``dependsOnTaskId``; a cycle is BAD_REQUEST showing it."""
    ctx.principal.require_admin("change task dependencies")
    dependency = ctx.services.planning.add_task_dependency(inp.task_id, inp.depends_on_task_id)
    return to_api(dependency)


@router.mutation("task.removeDependency", input=DependencyInput)
async def remove_dependency(ctx: Context, inp: DependencyInput) -> dict[str, Any]:
    ctx.principal.require_admin("change task dependencies")
    ctx.services.planning.remove_task_dependency(inp.task_id, inp.depends_on_task_id)
    return {"taskId": inp.task_id, "dependsOnTaskId": inp.depends_on_task_id}


@router.query("task.dependencies", input=IdInput)
async def dependencies(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The tasks this one waits for (NOT_FOUND for an unknown task, not ``[]``)."""
    ctx.repos.tasks.get(inp.id)
    return to_api_list(ctx.repos.tasks.get_dependencies(inp.id))


@router.query("task.dependents", input=IdInput)
async def dependents(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The tasks waiting for this one."""
    ctx.repos.tasks.get(inp.id)
    return to_api_list(ctx.repos.tasks.get_dependents(inp.id))


@router.query("task.subtasks", input=IdInput)
async def subtasks(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The task's direct subtasks in their planned order."""
    ctx.repos.tasks.get(inp.id)
    return to_api_list(ctx.repos.tasks.find_by_parent_task_id(inp.id))


@router.query("task.pendingApproval", input=InitiativeFilter)
async def pending_approval(ctx: Context, inp: InitiativeFilter) -> list[dict[str, Any]]:
    """Tasks whose merge waits for a person's approval, oldest first."""
    return to_api_list(ctx.services.planning.tasks_pending_approval(inp.initiative_id))


@router.mutation("task.approve", input=IdInput, waits=True)
async def approve(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Approves a ``pending_approval`` task: its agent's work is merged into the
    initiative branch and the task completed (``blocked`` on a conflict, with a
    question in the inbox). A ``pending_approval`` task that never ran becomes
    ``pending``. Any other status is PRECONDITION_FAILED."""
    ctx.principal.require_admin("approve tasks")
    task = await ctx.runtime.landing.approve(inp.id)
    return await ctx.services.offload(_with_approval, ctx, task)


@router.mutation("task.retryMerge", input=IdInput, waits=True)
async def retry_merge(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Merges a ``blocked`` task's work again, after someone fixed its branch:
    ``completed`` when it goes through, still ``blocked`` (with a new question) when
    it conflicts. Any other status is PRECONDITION_FAILED."""
    ctx.principal.require_admin("merge tasks")
    task = await ctx.runtime.landing.retry_merge(inp.id)
    return await ctx.services.offload(_with_approval, ctx, task)


@router.query("task.diff", input=DiffInput, waits=True)
async def diff(ctx: Context, inp: DiffInput) -> dict[str, Any]:
    """What the task's agent changed, per project of its initiative, from the merge base
    with the initiative branch: its commits and, while its worktree exists, everything
    uncommitted or untracked in it (a completed task: what its merge brought in).
    ``{taskId, agent, files, additions, deletions, truncated, projects: [{project,
    source, base, head, error, truncation, files: [{path, oldPath, status, additions,
    deletions, binary, patch, truncated}]}]}``; without ``patch`` only the counts.
    ``agent`` is null and ``projects`` empty while no agent has worked on the task."""
    found = await ctx.runtime.review.diff(inp.id, with_patch=inp.patch)
    return task_diff_to_api(found)


@router.mutation("task.reject", input=RejectInput, waits=True)
async def reject(ctx: Context, inp: RejectInput) -> dict[str, Any]:
    """Sends a ``pending_approval`` task back to its agent: the task is ``in_progress``
    and the agent runs again in its session with ``comment`` as the prompt; when that
    run succeeds the task waits for approval again, with the new diff. Any other status
    is PRECONDITION_FAILED, as is an agent that cannot be resumed (the task then stays
    ``pending_approval``)."""
    ctx.principal.require_admin("send tasks back to their agents")
    task = await ctx.runtime.review.request_changes(inp.id, inp.comment.strip() or inp.comment)
    return await ctx.services.offload(_with_approval, ctx, task)


@router.query("task.ready", input=ReadyInput)
async def ready(ctx: Context, inp: ReadyInput) -> list[dict[str, Any]]:
    """Tasks that can start now, highest priority first, then planned order."""
    found = ctx.services.planning.ready_tasks(inp.initiative_id, inp.phase_id)
    return to_api_list(found)
