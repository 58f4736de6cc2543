"""The SQLAlchemy adapters of the repository ports, and ``create_repositories`` wiring all 16."""

from __future__ import annotations

from sqlalchemy import Engine

from crosswalk.db.repositories import Repositories
from crosswalk.db.repositories.sqlalchemy.account import SqlAlchemyAccountRepository
from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.agent_run import SqlAlchemyAgentRunRepository
from crosswalk.db.repositories.sqlalchemy.answer_delivery import (
    SqlAlchemyAnswerDeliveryRepository,
)
from crosswalk.db.repositories.sqlalchemy.answering_run import SqlAlchemyAnsweringRunRepository
from crosswalk.db.repositories.sqlalchemy.conversation import SqlAlchemyConversationRepository
from crosswalk.db.repositories.sqlalchemy.initiative import SqlAlchemyInitiativeRepository
from crosswalk.db.repositories.sqlalchemy.log_chunk import SqlAlchemyLogChunkRepository
from crosswalk.db.repositories.sqlalchemy.message import SqlAlchemyMessageRepository
from crosswalk.db.repositories.sqlalchemy.ownership import SqlAlchemyOwnershipRepository
from crosswalk.db.repositories.sqlalchemy.page import SqlAlchemyPageRepository
from crosswalk.db.repositories.sqlalchemy.phase import SqlAlchemyPhaseRepository
from crosswalk.db.repositories.sqlalchemy.project import SqlAlchemyProjectRepository
from crosswalk.db.repositories.sqlalchemy.proposal import SqlAlchemyProposalRepository
from crosswalk.db.repositories.sqlalchemy.server import SqlAlchemyServerRepository
from crosswalk.db.repositories.sqlalchemy.task import SqlAlchemyTaskRepository
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock


def create_repositories(engine: Engine, clock: Clock = SYSTEM_CLOCK) -> Repositories:
    """Every adapter on ``engine``, telling time by ``clock``."""
    return Repositories(
        initiatives=SqlAlchemyInitiativeRepository(engine, clock),
        phases=SqlAlchemyPhaseRepository(engine, clock),
        tasks=SqlAlchemyTaskRepository(engine, clock),
        agents=SqlAlchemyAgentRepository(engine, clock),
        accounts=SqlAlchemyAccountRepository(engine, clock),
        proposals=SqlAlchemyProposalRepository(engine, clock),
        pages=SqlAlchemyPageRepository(engine, clock),
        projects=SqlAlchemyProjectRepository(engine, clock),
        messages=SqlAlchemyMessageRepository(engine, clock),
        log_chunks=SqlAlchemyLogChunkRepository(engine, clock),
        conversations=SqlAlchemyConversationRepository(engine, clock),
        answer_deliveries=SqlAlchemyAnswerDeliveryRepository(engine, clock),
        agent_runs=SqlAlchemyAgentRunRepository(engine, clock),
        ownership=SqlAlchemyOwnershipRepository(engine, clock),
        answering_runs=SqlAlchemyAnsweringRunRepository(engine, clock),
        servers=SqlAlchemyServerRepository(engine, clock),
    )


__all__ = [
    "SqlAlchemyAccountRepository",
    "SqlAlchemyAgentRepository",
    "SqlAlchemyAgentRunRepository",
    "SqlAlchemyAnswerDeliveryRepository",
    "SqlAlchemyAnsweringRunRepository",
    "SqlAlchemyConversationRepository",
    "SqlAlchemyInitiativeRepository",
    "SqlAlchemyLogChunkRepository",
    "SqlAlchemyMessageRepository",
    "SqlAlchemyOwnershipRepository",
    "SqlAlchemyPageRepository",
    "SqlAlchemyPhaseRepository",
    "SqlAlchemyProjectRepository",
    "SqlAlchemyProposalRepository",
    "SqlAlchemyServerRepository",
    "SqlAlchemyTaskRepository",
    "create_repositories",
]
