"""The repository ports: one ``typing.Protocol`` per repository (16), and their container."""

from dataclasses import dataclass

from crosswalk.db.repositories.account import AccountRepository
from crosswalk.db.repositories.agent import AgentRepository
from crosswalk.db.repositories.agent_run import AgentRunRepository
from crosswalk.db.repositories.answer_delivery import AnswerDeliveryRepository
from crosswalk.db.repositories.answering_run import AnsweringRunRepository
from crosswalk.db.repositories.conversation import ConversationRepository
from crosswalk.db.repositories.initiative import InitiativeRepository
from crosswalk.db.repositories.log_chunk import LogChunkRepository
from crosswalk.db.repositories.message import MessageRepository
from crosswalk.db.repositories.ownership import OwnershipRepository
from crosswalk.db.repositories.page import PageRepository
from crosswalk.db.repositories.phase import PhaseRepository
from crosswalk.db.repositories.project import ProjectRepository
from crosswalk.db.repositories.proposal import ProposalRepository
from crosswalk.db.repositories.server import ServerRepository
from crosswalk.db.repositories.task import TaskRepository


@dataclass(frozen=True, slots=True)
class Repositories:
    """All 16 repositories, typed by their ports so fakes can stand in."""

    initiatives: InitiativeRepository
    phases: PhaseRepository
    tasks: TaskRepository
    agents: AgentRepository
    accounts: AccountRepository
    proposals: ProposalRepository
    pages: PageRepository
    projects: ProjectRepository
    messages: MessageRepository
    log_chunks: LogChunkRepository
    conversations: ConversationRepository
    answer_deliveries: AnswerDeliveryRepository
    agent_runs: AgentRunRepository
    ownership: OwnershipRepository
    answering_runs: AnsweringRunRepository
    servers: ServerRepository


__all__ = [
    "AccountRepository",
    "AgentRepository",
    "AgentRunRepository",
    "AnswerDeliveryRepository",
    "AnsweringRunRepository",
    "ConversationRepository",
    "InitiativeRepository",
    "LogChunkRepository",
    "MessageRepository",
    "OwnershipRepository",
    "PageRepository",
    "PhaseRepository",
    "ProjectRepository",
    "ProposalRepository",
    "Repositories",
    "ServerRepository",
    "TaskRepository",
]
