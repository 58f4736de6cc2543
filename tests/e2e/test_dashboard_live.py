"""A page's live stream (``/events?page=PATH``) against the real server: an event the page
does not show sends it nothing; one it shows arrives."""

from __future__ import annotations

import itertools
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from tests.support.server import ServerProcess

#: How long a page's stream must stay silent after a change it does not show: the server
#: sends a burst 50 ms after its first event, so a change it wrongly sent would be here.
QUIET_S = 1.0
ARRIVES_S = 10.0
_tags = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the module: each test makes rows of its own."""
    process = ServerProcess(home=tmp_path_factory.mktemp("live") / "home").start()
    try:
        yield process
    finally:
        process.close()


def signed_in(server: ServerProcess) -> httpx.Client:
    origin = f"http://127.0.0.1:{server.port}"
    client = httpx.Client(base_url=origin, timeout=30)
    form = client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    done = client.post(
        "/signin",
        data={"csrf": csrf[1], "token": server.admin_token, "next": "/"},
        headers={"origin": origin},
    )
    assert done.status_code == 303, done.text
    return client


class Stream:
    """The ``change`` events of one page's stream, read by a thread as they come."""

    def __init__(self) -> None:
        self.changes: queue.Queue[str] = queue.Queue()

    def next(self, timeout_s: float) -> str | None:
        try:
            return self.changes.get(timeout=timeout_s)
        except queue.Empty:
            return None


@contextmanager
def stream_of(client: httpx.Client, page: str) -> Iterator[Stream]:
    stream = Stream()
    opened = threading.Event()

    def read() -> None:
        try:
            with client.stream("GET", "/events", params={"page": page}) as response:
                assert response.status_code == 200
                opened.set()
                event = None
                for line in response.iter_lines():
                    if line.startswith("event: "):
                        event = line.removeprefix("event: ")
                    elif line.startswith("data: ") and event == "change":
                        stream.changes.put(line.removeprefix("data: "))
        except (httpx.HTTPError, RuntimeError):
            pass  # the test closed the client

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(ARRIVES_S)
    assert stream.next(ARRIVES_S) == "connected"
    try:
        yield stream
    finally:
        client.close()
        reader.join(timeout=5)


def quiet(stream: Stream) -> None:
    assert stream.next(QUIET_S) is None


def arrives(stream: Stream) -> str:
    change = stream.next(ARRIVES_S)
    assert change is not None, "the page was not told of a change it shows"
    return change


def setup(server: ServerProcess) -> dict[str, Any]:
    call = server.call
    tag = next(_tags)
    mine = call("mutation", "initiative.create", {"name": "Checkout"})
    other = call("mutation", "initiative.create", {"name": "Search"})
    task = call("mutation", "task.create", {"name": "pay", "initiativeId": mine["id"]})
    elsewhere = call("mutation", "task.create", {"name": "index", "initiativeId": other["id"]})
    worker = server.create_agent(name=f"worker-{tag}", taskId=task["id"], status="running")
    bystander = server.create_agent(name=f"bystander-{tag}", status="running")
    for agent in (worker, bystander):
        log(server, agent)  # each has its first session already
    return {
        "initiative": mine,
        "task": task,
        "elsewhere": elsewhere,
        "worker": worker,
        "bystander": bystander,
    }


def log(server: ServerProcess, agent: dict[str, Any], session: int | None = None) -> None:
    payload: dict[str, Any] = {"agentId": agent["id"], "content": '{"type":"assistant"}\n'}
    if session is not None:
        payload["sessionNumber"] = session
    server.call("mutation", "log.append", payload)


def set_task(server: ServerProcess, task: dict[str, Any], status: str) -> None:
    server.call("mutation", "task.update", {"id": task["id"], "status": status})


def test_the_agents_page_hears_statuses_and_new_sessions_not_log_lines(
    server: ServerProcess,
) -> None:
    rows = setup(server)
    with stream_of(signed_in(server), "/agents") as stream:
        log(server, rows["worker"])
        log(server, rows["bystander"])
        set_task(server, rows["elsewhere"], "in_progress")  # no agent of it is shown
        quiet(stream)
        server.call("mutation", "agent.update", {"id": rows["worker"]["id"], "status": "idle"})
        assert "AgentStatusChanged" in arrives(stream)
        log(server, rows["bystander"], session=2)  # its session number on the page moves
        assert arrives(stream) == "LogChunkAppended"
        log(server, rows["bystander"], session=2)
        quiet(stream)


def test_the_initiative_page_hears_its_own_tasks_and_agents_only(server: ServerProcess) -> None:
    rows = setup(server)
    page = f"/initiatives/{rows['initiative']['id']}"
    with stream_of(signed_in(server), page) as stream:
        log(server, rows["worker"])  # a log line of an agent on its task
        set_task(server, rows["elsewhere"], "in_progress")  # another initiative's task
        server.call("mutation", "agent.update", {"id": rows["bystander"]["id"], "status": "idle"})
        quiet(stream)
        set_task(server, rows["task"], "in_progress")
        assert "TaskStatusChanged" in arrives(stream)
        server.call(
            "mutation", "task.create", {"name": "refund", "initiativeId": rows["initiative"]["id"]}
        )
        assert arrives(stream) == "EntityChanged"  # a task new to it: read its scope again
        server.call("mutation", "agent.update", {"id": rows["worker"]["id"], "status": "idle"})
        assert "AgentStatusChanged" in arrives(stream)


def test_an_agent_page_hears_its_own_log_and_nobody_elses(server: ServerProcess) -> None:
    rows = setup(server)
    with stream_of(signed_in(server), f"/agents/{rows['worker']['name']}") as stream:
        log(server, rows["bystander"])
        set_task(server, rows["elsewhere"], "in_progress")
        quiet(stream)
        log(server, rows["worker"])
        assert arrives(stream) == "LogChunkAppended"


def test_every_page_hears_the_question_in_its_header_and_a_page_of_none_hears_all(
    server: ServerProcess,
) -> None:
    rows = setup(server)
    client = signed_in(server)
    with stream_of(client, "/accounts") as stream:
        log(server, rows["worker"])
        quiet(stream)
        server.call(
            "mutation",
            "message.askUser",
            {"agentId": rows["worker"]["id"], "content": "Ship it?"},
            token=rows["worker"]["token"],
        )
        assert "UserQuestionAsked" in arrives(stream)
    with stream_of(signed_in(server), "/no/such/page") as everything:
        started = time.monotonic()
        log(server, rows["worker"])
        assert arrives(everything) == "LogChunkAppended"
        assert time.monotonic() - started < ARRIVES_S
