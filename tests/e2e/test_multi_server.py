"""Two `cw serve` processes on one PostgreSQL database, real `cw` processes on both.

Askers reach server A through a failover proxy (the load balancer of
``docs/deploy.md``); answerers use server B directly. A question asked through A
reaches the listeners parked on B; then A is killed with SIGKILL while every asker
waits for its answer, the askers' `cw` reconnect through the proxy to B, and the
answers given on B reach them: nothing lost, nothing answered twice.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from tests.support.postgres import PostgresServer
from tests.support.proxy import FailoverProxy
from tests.support.server import CW, ServerProcess

pytestmark = pytest.mark.slow

PAIRS = 3
Server = ServerProcess


@pytest.fixture
def shared_database(postgres: PostgresServer) -> Iterator[str]:
    name = f"multi_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture
def two_servers(
    shared_database: str, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    a = ServerProcess(home=tmp_path / "a", database=shared_database).start()
    try:
        # One deployment, one admin token: the second server gets the first one's file.
        (tmp_path / "b").mkdir()
        shutil.copy(a.home / "admin-token", tmp_path / "b" / "admin-token")
        b = ServerProcess(home=tmp_path / "b", database=shared_database).start()
        try:
            yield a, b
        finally:
            b.close()
    finally:
        a.close()


def spawn(
    server: ServerProcess, url: str, agent: dict[str, Any], *args: str
) -> subprocess.Popen[str]:
    """A real `cw` as ``agent`` against ``url``; ``server`` stops it at the end."""
    process = subprocess.Popen(
        [CW, *args],
        env=server.env(CW_URL=url, CW_AGENT_ID=agent["id"], CW_TOKEN=agent["token"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server.spawned.append(process)
    return process


def test_askers_on_a_answerers_on_b_and_a_killed_mid_wait(
    two_servers: tuple[Server, Server], shared_database: str
) -> None:
    a, b = two_servers
    assert a.admin_token == b.admin_token
    askers = [a.create_agent(name=f"asker-{i}", status="running") for i in range(PAIRS)]
    answerers = [b.create_agent(name=f"answerer-{i}", status="running") for i in range(PAIRS)]
    # Tokens work on every server: each agent acts on the other server too.
    for agent, other in [(askers[0], b), (answerers[0], a)]:
        me = other.call("query", "agent.get", {"id": agent["id"]}, token=agent["token"])
        assert me["id"] == agent["id"]

    proxy = FailoverProxy([a.port, b.port]).start()
    try:
        listeners = [
            spawn(b, b.url, answerer, "listen", "--timeout", "60", "--json")
            for answerer in answerers
        ]
        asking = [
            spawn(a, proxy.url, asker, "ask", "--agent", f"answerer-{i}", f"question {i}?")
            for i, asker in enumerate(askers)
        ]

        heard = []
        for i, listener in enumerate(listeners):
            out, err = listener.communicate(timeout=60)
            assert listener.returncode == 0, err
            [question] = json.loads(out)
            assert question["question"] == f"question {i}?"
            assert question["fromAgentId"] == askers[i]["id"]
            heard.append(question)
        assert proxy.connections.get(b.port, 0) == 0  # so far every asker is on A

        assert a.stop(signal.SIGKILL) == -signal.SIGKILL  # mid-wait: nobody answered yet
        for i, question in enumerate(heard):
            answered = b.cw("answer", question["id"], f"answer {i}", agent=answerers[i])
            assert answered.returncode == 0, answered.stderr

        for i, process in enumerate(asking):
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            assert out.strip() == f"answer {i}"
        assert proxy.connections.get(b.port, 0) >= PAIRS  # the askers moved to B
    finally:
        proxy.stop()

    engine = create_engine(shared_database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT question, status, answer FROM conversations")).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [(f"question {i}?", "answered", f"answer {i}") for i in range(PAIRS)]


def test_a_question_stream_on_b_sees_every_question_asked_through_a(
    two_servers: tuple[Server, Server],
) -> None:
    """`cw listen --follow` (an SSE subscription) parked on B streams each question as it
    is committed through A."""
    a, b = two_servers
    asker = a.create_agent(name="asker", status="running")
    answerer = b.create_agent(name="answerer", status="running")
    following = spawn(b, b.url, answerer, "listen", "--follow", "--json", "--timeout", "60")
    try:
        seen = []
        for i in range(3):
            asked = a.call(
                "mutation",
                "conversation.ask",
                {"fromAgentId": asker["id"], "toAgentId": answerer["id"], "question": f"q{i}"},
                token=asker["token"],
            )
            assert following.stdout is not None
            line = following.stdout.readline()  # blocks until B streams it
            event = json.loads(line)
            assert (event["id"], event["question"]) == (asked["id"], f"q{i}")
            seen.append(event["id"])
        assert len(set(seen)) == 3
    finally:
        following.send_signal(signal.SIGINT)
        following.communicate(timeout=30)
