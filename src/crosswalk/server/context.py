"""What every procedure receives: the caller, the core (``services``) and the runtime.

Procedures write only through the services (each write in a unit of work that
publishes its events); reads that change nothing may use ``repos`` directly. What
starts agents, dispatches and runs git is the ``runtime``, built on the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crosswalk.db.repositories import Repositories
from crosswalk.dispatch.checkpoints import CheckpointService
from crosswalk.dispatch.dispatcher import Dispatcher
from crosswalk.dispatch.landing import LandingService
from crosswalk.dispatch.ownership import OwnershipTracker
from crosswalk.dispatch.placement import ServerPresence
from crosswalk.dispatch.pushing import PushService
from crosswalk.dispatch.review import ReviewService
from crosswalk.runner import AnsweringScheduler, Supervisor, TellService
from crosswalk.services.accounts import AccountService
from crosswalk.services.agents import AgentService
from crosswalk.services.auth import Authenticator, Principal
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.check_in import CheckInService
from crosswalk.services.conversations import ConversationService
from crosswalk.services.documents import DocumentService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.idle_watch import IdleWatch
from crosswalk.services.logs import LogService
from crosswalk.services.offload import InlineOffload, Offload
from crosswalk.services.planning import PlanningService
from crosswalk.services.servers import ServerService
from crosswalk.services.sessions import SessionStore
from crosswalk.services.unit_of_work import UnitOfWorkFactory
from crosswalk.services.usage import UsageService


@dataclass(frozen=True, slots=True)
class Services:
    """The core: the repositories and the services over one database, all a database
    test needs (``build_services``). Nothing here starts a process or runs git."""

    repos: Repositories
    changes: ChangeStream
    unit_of_work: UnitOfWorkFactory
    conversations: ConversationService
    agents: AgentService
    planning: PlanningService
    accounts: AccountService
    documents: DocumentService
    logs: LogService
    usage: UsageService
    authenticator: Authenticator
    human_questions: HumanQuestionService
    checkpoints: CheckpointService  # the person's replies (a checkpoint's completes it)
    sessions: SessionStore
    check_in: CheckInService
    idle_watch: IdleWatch  # agents registered by hand go idle when their hooks go quiet
    servers: ServerService  # the deployment's servers, their heartbeats and placements
    offload: Offload = field(default_factory=InlineOffload)  # where blocking work runs


@dataclass(frozen=True, slots=True)
class Runtime:
    """What runs on the core (``build_runtime``): the agents' processes, dispatch and
    the git work of landing, reviewing and pushing."""

    runner: Supervisor
    telling: TellService
    answering: AnsweringScheduler  # idle agents resumed to answer the questions for them
    dispatcher: Dispatcher
    ownership: OwnershipTracker  # keeps the index of who changed which file
    landing: LandingService
    review: ReviewService
    pushes: PushService
    #: This server's heartbeat, leases and placed agents (None: a server with no id)
    presence: ServerPresence | None = None


@dataclass(frozen=True, slots=True)
class Context:
    principal: Principal
    services: Services
    runtime: Runtime

    @property
    def repos(self) -> Repositories:
        return self.services.repos
