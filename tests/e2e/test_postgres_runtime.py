"""The runtime's scenarios again, on PostgreSQL: the runner following agents (its output
drain, ``logs --follow``, stop, resume, clean, delete, usage limits), dispatch with
approval and checkpoints, telling, answering and the ownership index, each on a real
server whose engine refuses blocking calls on its event loop (``CW_FORBID_LOOP_DB``,
set by ``tests/support/server.py``). A refused call fails the scenario, or, where a
background loop swallowed it, the server's log fails the test when the server stops.

The scenarios are the SQLite tier's own functions, imported; this module's ``server``
fixture runs them on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import runner_server, stop_leftovers
from tests.e2e.test_answering import (
    test_the_agent_of_a_dependent_task_asks_the_finished_one_and_gets_its_answer,
)
from tests.e2e.test_dispatch import test_approval_conflict_and_checkpoint
from tests.e2e.test_ownership import test_an_ask_by_file_reaches_the_agent_that_wrote_it
from tests.e2e.test_runner import (
    test_a_usage_limit_exhausts_the_account_and_resumes_on_the_next,
    test_deleting_an_agent_removes_its_worktree,
    test_logs_follow_streams_until_the_agent_ends,
    test_resume_continues_the_session_as_log_session_two,
    test_stop_ends_the_process_group_and_clean_removes_the_worktree,
)
from tests.e2e.test_telling import (
    test_an_agent_whose_run_ended_is_resumed_with_what_the_person_says,
)
from tests.support.postgres import PostgresServer
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

__all__ = [
    "test_a_usage_limit_exhausts_the_account_and_resumes_on_the_next",
    "test_an_agent_whose_run_ended_is_resumed_with_what_the_person_says",
    "test_an_ask_by_file_reaches_the_agent_that_wrote_it",
    "test_approval_conflict_and_checkpoint",
    "test_deleting_an_agent_removes_its_worktree",
    "test_logs_follow_streams_until_the_agent_ends",
    "test_resume_continues_the_session_as_log_session_two",
    "test_stop_ends_the_process_group_and_clean_removes_the_worktree",
    "test_the_agent_of_a_dependent_task_asks_the_finished_one_and_gets_its_answer",
]


@pytest.fixture
def server(
    postgres: PostgresServer, tmp_path: Path, fake_agents: FakeAgents
) -> Iterator[ServerProcess]:
    name = f"runtime_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    try:
        for process in runner_server(tmp_path, fake_agents, database=url):
            try:
                yield process
            finally:
                stop_leftovers(process)
    finally:
        postgres.drop_database(name)
