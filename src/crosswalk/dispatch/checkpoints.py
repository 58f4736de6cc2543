"""Checkpoint tasks go to the person, never to an agent.

A ready checkpoint (``checkpoint:human-verify``, ``checkpoint:decision``,
``checkpoint:human-action``) is claimed and the person asked in one unit of work: a
message to the user that requires a response and names the task. The person's
reply (``cw reply``) completes the task; the reply stays in the message thread as
the record of what was verified, decided or done.
"""

from __future__ import annotations

from dataclasses import dataclass

from crosswalk.db.repositories import TaskRepository
from crosswalk.dispatch.choose import is_checkpoint
from crosswalk.domain.enums import TaskStatus, TaskType
from crosswalk.domain.errors import NotFoundError, PreconditionFailedError
from crosswalk.domain.rows import Message, Task
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.planning import PlanningService

_ASK = {
    TaskType.HUMAN_VERIFY: "Please verify",
    TaskType.DECISION: "A decision is needed",
    TaskType.HUMAN_ACTION: "Please do this",
}


@dataclass(slots=True)
class CheckpointService:
    tasks: TaskRepository
    planning: PlanningService
    human_questions: HumanQuestionService

    def claim_and_ask(self, task: Task) -> Task | None:
        """Claim the ready checkpoint task (``pending`` -> ``in_progress``) and ask the
        person to carry it out, in one unit of work; None when another dispatcher
        claimed it first (then nobody is asked twice)."""
        description = f"\n{task.description}" if task.description else ""
        text = (
            f"{_ASK.get(task.type, 'Please handle')}: checkpoint task '{task.name}' ({task.id})"
            f"{description}\nYour reply completes the task: cw reply MESSAGE_ID TEXT"
        )
        try:
            claimed, _ = self.planning.move_and_ask(
                task.id, TaskStatus.IN_PROGRESS, text, expected=[TaskStatus.PENDING]
            )
        except (PreconditionFailedError, NotFoundError):  # claimed or deleted meanwhile
            return None
        return claimed

    def reply(self, message_id: str, text: str) -> tuple[Message, Message]:
        """The person's reply to a message (``HumanQuestionService.reply``); one to the
        question of an in-progress checkpoint completes that task in the same unit of
        work. The question and the reply."""
        with self.human_questions.unit_of_work():
            question, reply = self.human_questions.reply(message_id, text)
            self.replied(question)
        return question, reply

    def replied(self, question: Message) -> Task | None:
        """The person replied to ``question`` (called by ``reply`` inside the reply's unit
        of work, which the completion joins): if it asked for an in-progress checkpoint,
        that task is completed. Other replies change no task."""
        if question.task_id is None:
            return None
        task = self.tasks.find_by_id(question.task_id)
        if task is None or not is_checkpoint(task) or task.status is not TaskStatus.IN_PROGRESS:
            return None
        return self.planning.move_task(
            task.id, TaskStatus.COMPLETED, expected=[TaskStatus.IN_PROGRESS]
        )
