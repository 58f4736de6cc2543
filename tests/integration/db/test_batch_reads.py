"""The dashboard's batch reads (``IN`` lists of ids, ``GROUP BY``) on SQLite and
PostgreSQL alike: the contract suite's cases, on each database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from tests.integration.contract import test_batch_reads as contract
from tests.integration.contract.conftest import Ports, adapter_ports


@pytest.fixture
def ports(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Ports:
    return adapter_ports(engine, monkeypatch)


def test_tasks_phases_and_their_prerequisites_by_ids(ports: Ports) -> None:
    contract.test_tasks_phases_and_their_prerequisites_by_ids(ports)


def test_agents_by_ids_and_tasks_and_their_session_counts(ports: Ports) -> None:
    contract.test_agents_by_ids_and_tasks_and_their_session_counts(ports)


def test_what_the_person_told_several_agents_newest_first(ports: Ports) -> None:
    contract.test_what_the_person_told_several_agents_newest_first(ports)
