"""The log chunk repository against a real SQLite file."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine

from crosswalk.db.repositories.sqlalchemy.agent import SqlAlchemyAgentRepository
from crosswalk.db.repositories.sqlalchemy.log_chunk import SqlAlchemyLogChunkRepository
from crosswalk.domain.rows import NewAgent, NewLogChunk


@pytest.fixture
def repo(engine: Engine) -> SqlAlchemyLogChunkRepository:
    return SqlAlchemyLogChunkRepository(engine)


def test_insert_chunk_stores_the_chunk(repo: SqlAlchemyLogChunkRepository) -> None:
    chunk = repo.insert_chunk(NewLogChunk("a1", "brave-otter", '{"type":"text"}\n'))

    assert len(chunk.id) == 21
    assert (chunk.agent_id, chunk.agent_name, chunk.session_number, chunk.content) == (
        "a1",
        "brave-otter",
        1,
        '{"type":"text"}\n',
    )
    assert repo.find_by_agent_id("a1") == [chunk]


def test_chunks_written_in_a_burst_read_back_in_write_order(
    repo: SqlAlchemyLogChunkRepository,
) -> None:
    # Hundreds of chunks land within a few milliseconds; ids are random, so only
    # strictly increasing timestamps keep them in order.
    written = [repo.insert_chunk(NewLogChunk("a1", "otter", f"line {i}")) for i in range(300)]
    repo.insert_chunk(NewLogChunk("a2", "heron", "someone else"))

    read = repo.find_by_agent_id("a1")

    assert [chunk.content for chunk in read] == [f"line {i}" for i in range(300)]
    assert read == written
    assert all(a.created_at < b.created_at for a, b in itertools.pairwise(read))


def test_find_by_agent_id_filters_by_session(repo: SqlAlchemyLogChunkRepository) -> None:
    for session in (1, 1, 2, 3, 3):
        repo.insert_chunk(NewLogChunk("a1", "otter", f"s{session}", session_number=session))

    assert [c.content for c in repo.find_by_agent_id("a1", session_number=3)] == ["s3", "s3"]
    assert [c.content for c in repo.find_by_agent_id("a1", session_number=2)] == ["s2"]
    assert repo.find_by_agent_id("a1", session_number=9) == []
    assert len(repo.find_by_agent_id("a1")) == 5
    assert repo.find_by_agent_id("nobody") == []


def test_get_session_count_is_the_highest_session_number(
    repo: SqlAlchemyLogChunkRepository,
) -> None:
    assert repo.get_session_count("a1") == 0
    repo.insert_chunk(NewLogChunk("a1", "otter", "spawn"))
    assert repo.get_session_count("a1") == 1
    repo.insert_chunk(NewLogChunk("a1", "otter", "resume", session_number=2))
    repo.insert_chunk(NewLogChunk("a1", "otter", "resume again", session_number=3))
    repo.insert_chunk(NewLogChunk("a2", "heron", "other agent", session_number=7))

    assert repo.get_session_count("a1") == 3


def test_delete_by_agent_id_counts_and_spares_other_agents(
    repo: SqlAlchemyLogChunkRepository,
) -> None:
    for _ in range(4):
        repo.insert_chunk(NewLogChunk("a1", "otter", "x"))
    kept = repo.insert_chunk(NewLogChunk("a2", "heron", "y"))

    assert repo.delete_by_agent_id("a1") == 4
    assert repo.find_by_agent_id("a1") == []
    assert repo.find_by_agent_id("a2") == [kept]
    assert repo.delete_by_agent_id("a1") == 0
    assert repo.get_session_count("a1") == 0


def test_chunks_survive_the_deletion_of_their_agent(
    repo: SqlAlchemyLogChunkRepository, engine: Engine
) -> None:
    agents = SqlAlchemyAgentRepository(engine)
    agent = agents.create(NewAgent("/wt"))
    chunks = [repo.insert_chunk(NewLogChunk(agent.id, agent.name, str(i))) for i in range(3)]

    agents.delete(agent.id)

    assert repo.find_by_agent_id(agent.id) == chunks
    # ... and a late flush after the deletion is still accepted.
    late = repo.insert_chunk(NewLogChunk(agent.id, agent.name, "late", session_number=2))
    assert repo.find_by_agent_id(agent.id) == [*chunks, late]
    assert repo.get_session_count(agent.id) == 2
