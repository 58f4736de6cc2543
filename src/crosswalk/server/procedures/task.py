"""``task.*``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from crosswalk.db.models import NewTask
from crosswalk.db.schema import TaskCategory, TaskPriority, TaskType
from crosswalk.server.context import Context
from crosswalk.server.procedures._inputs import ApiInput, Id, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


class CreateInput(ApiInput):
    name: Name
    phase_id: Id | None = None
    initiative_id: Id | None = None
    parent_task_id: Id | None = None
    description: Annotated[str, Field(max_length=100_000)] | None = None
    type: TaskType = TaskType.AUTO
    category: TaskCategory = TaskCategory.EXECUTE
    priority: TaskPriority = TaskPriority.MEDIUM
    requires_approval: bool | None = None


@router.mutation("task.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create tasks")
    task = ctx.repos.tasks.create(
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
        )
    )
    return to_api(task)
