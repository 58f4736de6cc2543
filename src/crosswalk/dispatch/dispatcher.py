"""The dispatch loop: start every ready task of the initiatives that run.

``initiative.run`` turns dispatch on for an initiative (with its ``max_agents`` and
``provider``), ``initiative.pause`` turns it off. The loop follows the change stream and wakes
when something that can change the choice is committed (a task or phase status
moves, an agent's status moves, an initiative is run, a task or dependency is added
or removed), reads each running initiative's
:class:`Plan`, asks :func:`choose` what to start, and claims each chosen task with
one conditional UPDATE before starting it, so no task is ever started twice, even
by two servers on one database. An initiative whose tasks are all completed
turns dispatch off by itself. Its reads and writes go through ``offload``, so on
PostgreSQL none of them runs on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from crosswalk.db.repositories import (
    InitiativeRepository,
    PhaseRepository,
    ProjectRepository,
    TaskRepository,
)
from crosswalk.dispatch.checkpoints import CheckpointService
from crosswalk.dispatch.choose import Plan, choose, is_checkpoint
from crosswalk.domain.enums import DispatchStatus, TaskStatus
from crosswalk.domain.errors import CrosswalkError, PreconditionFailedError
from crosswalk.domain.events import (
    AgentStatusChanged,
    EntityChanged,
    Event,
    PhaseStatusChanged,
    TaskStatusChanged,
)
from crosswalk.domain.rows import Agent, Initiative, Task
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.documents import projects_to_work_in
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.planning import PlanningService

logger = logging.getLogger("crosswalk.dispatch")

#: The loop also looks once in this long, in case a change was committed by a
#: process it cannot hear (another server on the same database).
SAFETY_INTERVAL_S = 30.0

#: Entities whose creation, change or deletion can make a task ready.
_PLAN_ENTITIES = frozenset(
    {"initiative", "task", "taskDependency", "phase", "phaseDependency", "server"}
)


def wakes_dispatch(event: Event) -> bool:
    """Whether ``event`` can change what dispatch would start."""
    if isinstance(event, (TaskStatusChanged, PhaseStatusChanged, AgentStatusChanged)):
        return True
    return isinstance(event, EntityChanged) and event.entity in _PLAN_ENTITIES


class AgentLauncher(Protocol):
    async def launch(self, task: Task, provider: str | None) -> Agent | None:
        """Start an agent on the (claimed, in-progress) task; None when it was placed on
        another server, which starts it."""
        ...


class Capacity(Protocol):
    def free_slots(self) -> int:
        """Agents the deployment's live servers can still take."""
        ...


def could_not_start(planning: PlanningService, task: Task, why: str) -> None:
    """The claimed task's agent did not start: the task is blocked and the person asked."""
    logger.warning("task %s: could not start an agent: %s", task.id, why)
    planning.move_and_ask(
        task.id,
        TaskStatus.BLOCKED,
        f"Could not start an agent for task '{task.name}' ({task.id}): "
        f"{why}\nFix the cause, then dispatch it again with: "
        f"cw task update {task.id} --status pending",
        expected=[TaskStatus.IN_PROGRESS],
    )


@dataclass(slots=True)
class Dispatcher:
    initiatives: InitiativeRepository
    tasks: TaskRepository
    phases: PhaseRepository
    projects: ProjectRepository
    planning: PlanningService
    human_questions: HumanQuestionService
    checkpoints: CheckpointService
    changes: ChangeStream
    launcher: AgentLauncher | None = None
    #: How many more agents the servers can take (None: no limit but ``max_agents``).
    capacity: Capacity | None = None
    offload: Offload = field(default_factory=InlineOffload)  # where database work runs

    def run(self, initiative_id: str, max_agents: int, provider: str | None) -> Initiative:
        """Turn dispatch on for the initiative; the loop starts its ready tasks. An
        initiative without a project is refused, as spawning on it would be."""
        projects_to_work_in(self.projects, self.initiatives.get(initiative_id))
        return self.planning.update_initiative(
            initiative_id,
            {
                "dispatch_status": DispatchStatus.RUNNING,
                "dispatch_max_agents": max_agents,
                "dispatch_provider": provider,
            },
        )

    def pause(self, initiative_id: str) -> Initiative:
        """Stop starting tasks; agents already running go on."""
        return self.planning.update_initiative(
            initiative_id, {"dispatch_status": DispatchStatus.PAUSED}
        )

    def plan(self, initiative_id: str) -> Plan:
        tasks = self.tasks.find_by_initiative_id(initiative_id)
        phases = self.phases.find_by_initiative_id(initiative_id)
        return Plan(
            tasks=tasks,
            task_dependencies={
                task.id: [d.id for d in self.tasks.get_dependencies(task.id)] for task in tasks
            },
            phase_dependencies={
                phase.id: [d.id for d in self.phases.get_dependencies(phase.id)] for phase in phases
            },
            phase_statuses={phase.id: phase.status for phase in phases},
        )

    async def step(self, initiative_id: str) -> list[Task]:
        """One look at a running initiative: start what is ready; the started tasks."""
        looked = await self.offload(self._look, initiative_id)
        if looked is None:
            return []
        initiative, chosen = looked
        max_agents = initiative.dispatch_max_agents or 1
        room = None if self.capacity is None else await self.offload(self.capacity.free_slots)
        started = []
        for task in chosen:
            if not is_checkpoint(task) and room is not None:
                if room <= 0:
                    continue  # every live server is full: a freed slot wakes dispatch
                room -= 1
            claimed = await self.offload(self._claim, task, max_agents)
            if claimed is None:
                continue  # another dispatcher won it, or the slots filled meanwhile
            if not is_checkpoint(claimed):
                await self._launch(claimed, initiative.dispatch_provider)
            started.append(claimed)
        return started

    def _look(self, initiative_id: str) -> tuple[Initiative, list[Task]] | None:
        """The running initiative and the tasks to start; None when it does not run
        (or has just finished: every task completed turns its dispatch off)."""
        initiative = self.initiatives.get(initiative_id)
        if initiative.dispatch_status is not DispatchStatus.RUNNING:
            return None
        plan = self.plan(initiative_id)
        if plan.finished():
            self.planning.update_initiative(initiative_id, {"dispatch_status": DispatchStatus.OFF})
            logger.info("initiative %s: every task completed, dispatch off", initiative_id)
            return None
        return initiative, choose(plan, initiative.dispatch_max_agents or 1)

    def _claim(self, task: Task, max_agents: int) -> Task | None:
        """The task claimed (in progress), or None; a checkpoint is claimed and asked
        of the person at once."""
        if is_checkpoint(task):
            return self.checkpoints.claim_and_ask(task)
        return self.planning.claim_task(task.id, max_in_progress=max_agents)

    async def _launch(self, task: Task, provider: str | None) -> None:
        try:
            if self.launcher is None:
                raise PreconditionFailedError("this server has no agent runner to start agents")
            await self.launcher.launch(task, provider)
        except CrosswalkError as exc:
            await self.offload(could_not_start, self.planning, task, exc.message)
        except Exception as exc:  # the task must not stay in progress with no agent
            logger.exception("task %s: starting its agent failed", task.id)
            why = f"{type(exc).__name__}: {exc}"
            await self.offload(could_not_start, self.planning, task, why)

    async def serve(self) -> None:
        """Run until the change stream closes (server shutdown)."""
        while not self.changes.closed:
            async with self.changes.follow(wakes_dispatch) as changes:
                while not self.changes.closed and not changes.lagged:
                    await self._step_running()
                    # the next change that can matter, or the safety interval
                    with contextlib.suppress(TimeoutError, StopAsyncIteration):
                        await asyncio.wait_for(anext(changes), SAFETY_INTERVAL_S)
            # lagged: the follower was dropped; the next pass reads the state afresh

    async def _step_running(self) -> None:
        for initiative in await self.offload(self.initiatives.find_all):
            if initiative.dispatch_status is not DispatchStatus.RUNNING:
                continue
            try:
                await self.step(initiative.id)
            except CrosswalkError as exc:
                logger.warning("dispatch of %s: %s", initiative.id, exc.message)
            except Exception:  # the loop must outlive one bad initiative
                logger.exception("dispatch of %s failed", initiative.id)
