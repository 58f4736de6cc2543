"""The ``LogChunkRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from tests.integration.contract.conftest import Ports

from crosswalk.domain.rows import NewLogChunk


def test_chunks_per_agent_and_session(ports: Ports) -> None:
    logs = ports.log_chunks
    one = logs.insert_chunk(NewLogChunk("a1", "alice", "hello "))
    two = logs.insert_chunk(NewLogChunk("a1", "alice", "again", session_number=2))
    other = logs.insert_chunk(NewLogChunk("gone", "bob", "kept without its agent"))

    assert (one.agent_name, one.session_number, one.content) == ("alice", 1, "hello ")
    assert logs.find_by_agent_id("a1") == [one, two]
    assert logs.find_by_agent_id("a1", session_number=2) == [two]
    assert logs.find_by_agent_id("a1", after=one.created_at) == [two]  # log.follow resumes
    assert logs.find_by_agent_id("a1", after=two.created_at) == []
    assert (logs.get_session_count("a1"), logs.get_session_count("nobody")) == (2, 0)

    assert logs.delete_by_agent_id("a1") == 2
    assert logs.find_by_agent_id("a1") == []
    assert logs.find_by_agent_id("gone") == [other]


def test_chunks_inserted_together_keep_each_agents_order(ports: Ports) -> None:
    logs = ports.log_chunks
    first = logs.insert_chunk(NewLogChunk("a1", "alice", "before "))
    together = logs.insert_chunks(
        [
            NewLogChunk("a1", "alice", "one "),
            NewLogChunk("a2", "bob", "other agent"),
            NewLogChunk("a1", "alice", "two", session_number=2),
        ]
    )

    assert [chunk.content for chunk in together] == ["one ", "other agent", "two"]
    assert [(c.agent_name, c.session_number) for c in together] == [
        ("alice", 1),
        ("bob", 1),
        ("alice", 2),
    ]
    assert logs.find_by_agent_id("a1") == [first, together[0], together[2]]
    assert logs.find_by_agent_id("a2") == [together[1]]
    # strictly increasing per agent, even within one write (log.follow resumes after one)
    assert first.created_at < together[0].created_at < together[2].created_at
    assert logs.find_by_agent_id("a1", after=together[0].created_at) == [together[2]]
    assert logs.insert_chunks([]) == []
