"""One contract suite per port, run against the in-memory fake and the SQLAlchemy
adapter alike: a fake that drifts from the real adapter fails here, not in a service
test that trusted it."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from tests.integration.db.clock import Clock
from tests.unit.services.fakes import FakeAgents, FakeConversations, FakeMessages

from crosswalk.db.repositories import AgentRepository, ConversationRepository, MessageRepository
from crosswalk.db.repositories import sqlalchemy as adapters
from crosswalk.db.repositories.sqlalchemy import create_repositories


@dataclass
class Ports:
    agents: AgentRepository
    conversations: ConversationRepository
    messages: MessageRepository


@pytest.fixture(params=["fake", "sqlalchemy"])
def ports(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Ports:
    if request.param == "fake":
        return Ports(FakeAgents(), FakeConversations(), FakeMessages())
    # Every write 1 ms after the last, as the fakes' clock does, so "oldest first" is
    # decided by time and not by the random ids of rows written in one millisecond.
    clock = Clock()
    for module in (adapters._base, adapters.agent, adapters.conversation, adapters.message):
        monkeypatch.setattr(module, "utcnow", clock)
    engine: Engine = request.getfixturevalue("engine")
    repos = create_repositories(engine)
    return Ports(repos.agents, repos.conversations, repos.messages)
