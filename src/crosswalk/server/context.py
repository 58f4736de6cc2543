"""What every procedure receives: the caller and the wired services."""

from __future__ import annotations

from dataclasses import dataclass

from crosswalk.db.repositories.sqlalchemy import Repositories
from crosswalk.dispatch.checkpoints import CheckpointService
from crosswalk.dispatch.dispatcher import Dispatcher
from crosswalk.dispatch.landing import LandingService
from crosswalk.services.auth import Authenticator, Principal
from crosswalk.services.conversations import ConversationService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.notifier import Notifier
from crosswalk.services.task_states import TaskStateService


@dataclass(frozen=True, slots=True)
class Services:
    """The composition root's product: one per server process."""

    repos: Repositories
    notifier: Notifier
    conversations: ConversationService
    authenticator: Authenticator
    human_questions: HumanQuestionService
    task_states: TaskStateService
    landing: LandingService
    checkpoints: CheckpointService
    dispatcher: Dispatcher


@dataclass(frozen=True, slots=True)
class Context:
    principal: Principal
    services: Services

    @property
    def repos(self) -> Repositories:
        return self.services.repos
