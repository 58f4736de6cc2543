"""The repository ports: one ``typing.Protocol`` per repository (11)."""

from crosswalk.db.repositories.account import AccountRepository
from crosswalk.db.repositories.agent import AgentRepository
from crosswalk.db.repositories.conversation import ConversationRepository
from crosswalk.db.repositories.initiative import InitiativeRepository
from crosswalk.db.repositories.log_chunk import LogChunkRepository
from crosswalk.db.repositories.message import MessageRepository
from crosswalk.db.repositories.page import PageRepository
from crosswalk.db.repositories.phase import PhaseRepository
from crosswalk.db.repositories.project import ProjectRepository
from crosswalk.db.repositories.proposal import ProposalRepository
from crosswalk.db.repositories.task import TaskRepository
from crosswalk.domain.rows import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Removal

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "AccountRepository",
    "AgentRepository",
    "ConversationRepository",
    "InitiativeRepository",
    "LogChunkRepository",
    "MessageRepository",
    "PageRepository",
    "PhaseRepository",
    "ProjectRepository",
    "ProposalRepository",
    "Removal",
    "TaskRepository",
]
