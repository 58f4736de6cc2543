"""One contract suite per port, run against the in-memory fake and the SQLAlchemy
adapter alike: a fake that drifts from the real adapter fails here, not in a service
test that trusted it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from tests.integration.db.clock import Clock
from tests.unit.services.fake_documents import (
    FakeAccounts,
    FakeAgentRuns,
    FakeLogChunks,
    FakePages,
    FakeProjects,
    FakeProposals,
)
from tests.unit.services.fake_ownership import FakeOwnership
from tests.unit.services.fakes import (
    FakeAgents,
    FakeAnswerDeliveries,
    FakeAnsweringRuns,
    FakeConversations,
    FakeInitiatives,
    FakeMessages,
    FakePhases,
    FakeTasks,
    FakeUnitsOfWork,
)

from crosswalk.db.repositories import (
    AccountRepository,
    AgentRepository,
    AgentRunRepository,
    AnswerDeliveryRepository,
    AnsweringRunRepository,
    ConversationRepository,
    InitiativeRepository,
    LogChunkRepository,
    MessageRepository,
    OwnershipRepository,
    PageRepository,
    PhaseRepository,
    ProjectRepository,
    ProposalRepository,
    TaskRepository,
)
from crosswalk.db.repositories import sqlalchemy as adapters
from crosswalk.db.repositories.sqlalchemy import create_repositories
from crosswalk.db.unit_of_work import SqlAlchemyUnitOfWork
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.unit_of_work import UnitOfWork, UnitOfWorkFactory


@dataclass
class Ports:
    agents: AgentRepository
    conversations: ConversationRepository
    answer_deliveries: AnswerDeliveryRepository
    answering_runs: AnsweringRunRepository
    messages: MessageRepository
    initiatives: InitiativeRepository
    phases: PhaseRepository
    tasks: TaskRepository
    projects: ProjectRepository
    pages: PageRepository
    proposals: ProposalRepository
    accounts: AccountRepository
    log_chunks: LogChunkRepository
    agent_runs: AgentRunRepository
    ownership: OwnershipRepository
    unit_of_work: UnitOfWorkFactory  # the unit-of-work port over these repositories


def fakes() -> Ports:
    initiatives = FakeInitiatives()
    phases = FakePhases(initiatives=initiatives)
    tasks = FakeTasks(phases=phases, initiatives=initiatives)
    agents, messages = FakeAgents(tasks=tasks), FakeMessages()
    conversations = FakeConversations(messages)
    answer_deliveries = FakeAnswerDeliveries(conversations)
    answering_runs = FakeAnsweringRuns(agents)
    projects, pages = FakeProjects(initiatives), FakePages(initiatives)
    proposals, accounts, log_chunks = FakeProposals(), FakeAccounts(), FakeLogChunks()
    agent_runs = FakeAgentRuns()
    ownership = FakeOwnership(agents)
    stores = (
        agents, conversations, answer_deliveries, answering_runs, messages, projects, pages,
        ownership,
    )  # fmt: skip
    return Ports(
        agents=agents,
        conversations=conversations,
        answer_deliveries=answer_deliveries,
        answering_runs=answering_runs,
        messages=messages,
        initiatives=initiatives,
        phases=phases,
        tasks=tasks,
        projects=projects,
        pages=pages,
        proposals=proposals,
        accounts=accounts,
        log_chunks=log_chunks,
        agent_runs=agent_runs,
        ownership=ownership,
        unit_of_work=FakeUnitsOfWork(
            ChangeStream(), *stores, proposals, accounts, log_chunks, agent_runs
        ),
    )


@pytest.fixture(params=["fake", "sqlalchemy"])
def ports(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Ports:
    if request.param == "fake":
        return fakes()
    return adapter_ports(request.getfixturevalue("engine"), monkeypatch)


def adapter_ports(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Ports:
    """The SQLAlchemy adapters on ``engine``, as the contract suites use them."""
    # Every write 1 ms after the last, as the fakes' clock does, so "oldest first" is
    # decided by time and not by the random ids of rows written in one millisecond.
    clock = Clock()
    for module in (
        adapters._base,
        adapters.account,
        adapters.agent,
        adapters.answer_delivery,
        adapters.answering_run,
        adapters.conversation,
        adapters.initiative,
        adapters.log_chunk,
        adapters.message,
        adapters.page,
        adapters.phase,
        adapters.project,
        adapters.proposal,
        adapters.task,
    ):
        monkeypatch.setattr(module, "utcnow", clock)
    repos = create_repositories(engine)
    return Ports(
        agents=repos.agents,
        conversations=repos.conversations,
        answer_deliveries=repos.answer_deliveries,
        answering_runs=repos.answering_runs,
        messages=repos.messages,
        initiatives=repos.initiatives,
        phases=repos.phases,
        tasks=repos.tasks,
        projects=repos.projects,
        pages=repos.pages,
        proposals=repos.proposals,
        accounts=repos.accounts,
        log_chunks=repos.log_chunks,
        agent_runs=repos.agent_runs,
        ownership=repos.ownership,
        unit_of_work=lambda: _unit_of_work(engine),
    )


def _unit_of_work(engine: Engine) -> UnitOfWork:
    return SqlAlchemyUnitOfWork(engine)
