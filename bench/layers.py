"""Where a conversation's server CPU goes, layer by layer, measured in one process.

The conversation benchmark measures the server as agents see it: over HTTP, with the
kernel's socket work and the event loop's wake-ups in every figure. This one takes the
sockets away and times the same conversation (ask, listen, answer, waitForAnswer) at
two layers of the server, in this process, with the server's own code, app and SQLite
settings:

- services: the four service calls (their logic and their database work) and nothing
  around them;
- app: the four tRPC requests through the server's ASGI app (the wire format, the
  token, validation, serialisation, the long polls), with no HTTP server and no socket;
  once one after another (each request's own cost) and once with the long polls parked
  and woken as they are over HTTP;
- sqlite3: the time the service calls spend inside the ``sqlite3`` module's own calls
  (executing, fetching, committing: SQLite's work and the driver's), measured on an app
  of its own whose connections time those calls; what is left of ``services`` is the
  services' and repositories' Python;

beside ``health`` through the same app. The figures are this process's CPU time (one
thread), so they move little from run to run. What the HTTP benchmark adds on top is
uvicorn's and the kernel's share: reading and writing the sockets and waking the
clients.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import uvloop
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.report import Column, Section
from bench.settings import Settings
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema
from crosswalk.domain.rows import NewAgent, NewInitiative, NewPhase, NewTask
from crosswalk.ids import new_id
from crosswalk.runner.settings import RunnerSettings
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.services.targets import AgentTarget

STEPS = ("ask", "listen", "answer", "waitForAnswer")
TIMEOUT_MS = 30_000


class _Inside:
    """This thread's CPU nanoseconds inside the sqlite3 module's calls, and how many calls
    were timed. CPU time, not wall time: a checkpoint's fsync waits, it does not work.
    A CPU clock reading costs a few tenths of a µs, part of which lands inside each timed
    call: :func:`_clock_cost` measures it, and it is taken off."""

    ns = 0
    calls = 0

    @classmethod
    def seconds(cls, reading_ns: float) -> float:
        return (cls.ns - cls.calls * reading_ns) / 1e9


_clock = time.thread_time_ns
_T = TypeVar("_T")


def _clock_cost() -> float:
    """The median time between two readings of ``_clock`` with nothing between them."""
    clock = _clock
    gaps = []
    for _ in range(20_000):
        start = clock()
        gaps.append(clock() - start)
    return statistics.median(gaps)


def _timed(call: Callable[..., _T], *args: Any) -> _T:
    """``call(*args)``, its CPU time and the call counted in ``_Inside``."""
    start = _clock()
    try:
        return call(*args)
    finally:
        _Inside.ns += _clock() - start
        _Inside.calls += 1


class _TimedCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _TimedCursor:
        return _timed(super().execute, sql, parameters)

    def fetchall(self) -> list[Any]:
        return _timed(super().fetchall)

    def fetchone(self) -> Any:
        return _timed(super().fetchone)


class _TimedConnection(sqlite3.Connection):
    """A connection whose statements, fetches and commits add their time to ``_Inside``
    (``Connection.execute`` makes its cursor in C, so it is timed itself)."""

    def cursor(self, factory: Any = _TimedCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        return _timed(super().execute, sql, parameters)

    def commit(self) -> None:
        _timed(super().commit)

    def rollback(self) -> None:
        _timed(super().rollback)


@contextmanager
def _timed_connections() -> Iterator[None]:
    """Engines made inside connect SQLite through :class:`_TimedConnection`."""

    def factory(dialect: Any, record: Any, args: Any, params: dict[str, Any]) -> None:
        if dialect.name == "sqlite":
            params["factory"] = _TimedConnection

    event.listen(Engine, "do_connect", factory)
    try:
        yield
    finally:
        event.remove(Engine, "do_connect", factory)


@dataclass
class Pair:
    asker_id: str
    asker_token: str
    answerer_id: str
    answerer_token: str


class Client:
    """Requests straight into the ASGI app: a scope, the body once, the response kept."""

    def __init__(self, app: CrosswalkApp) -> None:
        self._asgi = app.asgi

    async def call(
        self, method: str, path: str, token: str | None, body: bytes, query: bytes
    ) -> Any:
        headers = [(b"host", b"bench")]
        if token:
            headers.append((b"authorization", b"Bearer " + token.encode()))
        if body:
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 2),
            "state": {},
        }
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # never disconnects
            raise AssertionError("unreachable")

        chunks: list[bytes] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._asgi(scope, receive, send)
        return chunks

    async def query(self, path: str, token: str | None, query: bytes) -> Any:
        return _data(await self.call("GET", "/trpc/" + path, token, b"", query))

    async def mutation(self, path: str, token: str, body: bytes) -> Any:
        return _data(await self.call("POST", "/trpc/" + path, token, body, b""))


def _data(chunks: list[bytes]) -> Any:
    response = json.loads(b"".join(chunks))
    if "result" not in response:
        raise RuntimeError(f"request failed: {response}")
    return response["result"]["data"]


def _input(value: Any) -> bytes:
    return ("input=" + quote(json.dumps(value), safe="")).encode()


@dataclass
class Requests:
    """One conversation's four requests, encoded before the clock starts (a client's
    work, not the server's); the ask carries a client-chosen id, as ``cw ask``'s do, so
    the answer and the wait can be written beforehand too."""

    id: str
    ask: bytes
    listen: bytes
    answer: bytes
    wait: bytes

    @classmethod
    def make(cls, pair: Pair) -> Requests:
        id = new_id()
        ask = {
            "fromAgentId": pair.asker_id,
            "toAgentId": pair.answerer_id,
            "question": "q",
            "id": id,
        }
        return cls(
            id,
            json.dumps(ask).encode(),
            _input({"agentId": pair.answerer_id, "timeoutMs": TIMEOUT_MS}),
            json.dumps({"id": id, "answer": "a"}).encode(),
            _input({"id": id, "timeoutMs": TIMEOUT_MS}),
        )


async def _one_by_one(client: Client, pair: Pair, r: Requests, spent: dict[str, float]) -> None:
    """The four requests one after another; each one's CPU time added to ``spent``."""
    clock = time.process_time
    start = clock()
    await client.mutation("conversation.ask", pair.asker_token, r.ask)
    asked = clock()
    questions = await client.query("conversation.listen", pair.answerer_token, r.listen)
    listened = clock()
    await client.mutation("conversation.answer", pair.answerer_token, r.answer)
    answered = clock()
    waited = await client.query("conversation.waitForAnswer", pair.asker_token, r.wait)
    done = clock()
    if questions[0]["id"] != r.id or waited["status"] != "answered":
        raise RuntimeError(f"conversation {r.id} went wrong: {questions!r}, {waited!r}")
    spent["ask"] += asked - start
    spent["listen"] += listened - asked
    spent["answer"] += answered - listened
    spent["waitForAnswer"] += done - answered


async def _parked(client: Client, pair: Pair, r: Requests) -> None:
    """The four requests as over HTTP: the listen parked before the ask, the wait parked
    before the answer, each woken by the other side's commit."""
    listening = asyncio.ensure_future(
        client.query("conversation.listen", pair.answerer_token, r.listen)
    )
    await asyncio.sleep(0)  # parked
    await client.mutation("conversation.ask", pair.asker_token, r.ask)
    waiting = asyncio.ensure_future(
        client.query("conversation.waitForAnswer", pair.asker_token, r.wait)
    )
    await asyncio.sleep(0)  # parked
    questions = await listening
    await client.mutation("conversation.answer", pair.answerer_token, r.answer)
    waited = await waiting
    if questions[0]["id"] != r.id or waited["status"] != "answered":
        raise RuntimeError(f"conversation {r.id} went wrong: {questions!r}, {waited!r}")


async def _services(
    app: CrosswalkApp,
    pair: Pair,
    id: str,
    spent: dict[str, float],
    clock: Callable[[], float] = time.process_time,
) -> None:
    """The service calls the four requests make, without the requests; each step's
    ``clock`` seconds (by default this process's CPU time) added to ``spent``."""
    conversations = app.services.conversations
    # The rows the procedures take from the caller's token.
    asker = app.services.repos.agents.get(pair.asker_id)
    answerer = app.services.repos.agents.get(pair.answerer_id)
    start = clock()
    conversations.ask(pair.asker_id, "q", AgentTarget(pair.answerer_id), id=id, asker=asker)
    asked = clock()
    await conversations.listen(pair.answerer_id, TIMEOUT_MS / 1000, agent=answerer)
    listened = clock()
    conversations.answer(id, "a", acting_agent_id=pair.answerer_id)
    answered = clock()
    await conversations.wait_for_answer(id, TIMEOUT_MS / 1000)
    done = clock()
    spent["ask"] += asked - start
    spent["listen"] += listened - asked
    spent["answer"] += answered - listened
    spent["waitForAnswer"] += done - answered


def _pair(app: CrosswalkApp) -> Pair:
    """An asker and an answerer on a task of its own, as in the HTTP benchmark."""
    planning, agents = app.services.planning, app.services.agents
    initiative = planning.create_initiative(NewInitiative(name="layers"))
    phase = planning.create_phase(NewPhase(initiative_id=initiative.id, name="phase"))
    task = planning.create_task(NewTask(name="task", phase_id=phase.id))
    asker, asker_token = agents.register(NewAgent(worktree_id="asker", name="asker"))
    answerer, answerer_token = agents.register(
        NewAgent(worktree_id="answerer", name="answerer", task_id=task.id)
    )
    return Pair(asker.id, asker_token, answerer.id, answerer_token)


def _record(
    results: dict[str, list[float]], layer: str, spent: dict[str, float], count: int
) -> None:
    """One round of ``layer``: each step's and the conversation's µs per conversation."""
    for step in STEPS:
        results.setdefault(f"{layer}.{step}", []).append(spent[step] / count * 1e6)
    results.setdefault(layer, []).append(sum(spent.values()) / count * 1e6)


async def _measure(app: CrosswalkApp, count: int, rounds: int) -> dict[str, list[float]]:
    """Each layer's CPU µs per conversation (and per step), ``rounds`` times, layers
    alternating so that drift hits them alike."""
    client, pair = Client(app), _pair(app)
    results: dict[str, list[float]] = {}

    def add(key: str, seconds: float, per: int) -> None:
        results.setdefault(key, []).append(seconds / per * 1e6)

    for round_ in range(rounds + 1):  # the first round warms up, unrecorded
        spent = dict.fromkeys(STEPS, 0.0)
        for _ in range(count):
            await _services(app, pair, new_id(), spent)
        if round_:
            _record(results, "services", spent, count)
        spent = dict.fromkeys(STEPS, 0.0)
        batch = [Requests.make(pair) for _ in range(count)]
        for requests in batch:
            await _one_by_one(client, pair, requests, spent)
        if round_:
            _record(results, "app", spent, count)
        batch = [Requests.make(pair) for _ in range(count)]
        start = time.process_time()
        for requests in batch:
            await _parked(client, pair, requests)
        parked = time.process_time() - start
        start = time.process_time()
        for _ in range(count * 4):
            await client.query("health", None, b"")
        health = time.process_time() - start
        if round_:
            add("parked", parked, count)
            add("health", health, count * 4)
    return results


async def _measure_sqlite(app: CrosswalkApp, count: int, rounds: int) -> dict[str, list[float]]:
    """The µs per conversation (and per step) the service calls spend inside sqlite3's
    calls, ``rounds`` times; ``app``'s connections must be :class:`_TimedConnection`."""
    pair = _pair(app)
    results: dict[str, list[float]] = {}
    reading_ns = _clock_cost()
    results["clock_reading_ns"] = [reading_ns]

    def inside() -> float:
        return _Inside.seconds(reading_ns)

    for round_ in range(rounds + 1):  # the first round warms up, unrecorded
        spent = dict.fromkeys(STEPS, 0.0)
        for _ in range(count):
            await _services(app, pair, new_id(), spent, inside)
        if round_:
            _record(results, "sqlite", spent, count)
    return results


def _app(home: Path) -> CrosswalkApp:
    """The server's app on a fresh SQLite file in ``home`` (migrated first, so the app
    has nothing to say about it)."""
    home.chmod(0o700)  # the data directory's mode, which the app would otherwise fix
    url = f"sqlite:///{home / 'crosswalk.db'}"
    engine = create_database_engine(url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    return create_app(
        url,
        admin_token_file=home / "admin-token",
        runner_settings=RunnerSettings(data_dir=home / "data"),
    )


def run(settings: Settings) -> Section:
    section = Section(
        "layers",
        "Layers: a conversation's server CPU in one process, without sockets (SQLite)",
        [
            Column("layer", "layer"),
            *(Column(step, f"{step} µs", 1) for step in STEPS),
            Column("conversation", "µs per conversation", 0),
            Column("vs_health", "x health through the app", 1),
        ],
    )
    count, rounds = settings.count(2000, 200), settings.count(3, 1)
    app = _app(settings.workdir("layers"))
    try:
        results = uvloop.run(_measure(app, count, rounds))
    finally:
        app.close()
    with _timed_connections():  # an app of its own: the timing costs the others nothing
        app = _app(settings.workdir("layers-sqlite"))
        try:
            results |= uvloop.run(_measure_sqlite(app, count, rounds))
        finally:
            app.close()
    median = {key: statistics.median(values) for key, values in results.items()}
    health = median["health"]
    rows: list[tuple[str, str, bool]] = [
        ("sqlite", "sqlite3 alone: inside its calls, in the service calls", True),
        ("services", "services only (logic and SQLite, no request)", True),
        ("app", "app: the four requests one after another", True),
        ("parked", "app: long polls parked and woken, as over HTTP", False),
    ]
    for key, label, has_steps in rows:
        row: dict[str, Any] = {
            "layer": label,
            "conversation": median[key],
            "vs_health": median[key] / health,
        }
        if has_steps:
            row |= {step: median[f"{key}.{step}"] for step in STEPS}
        section.rows.append(row)
    section.rows.append(
        {"layer": "health through the app (per request)", "conversation": health, "vs_health": 1.0}
    )
    section.notes += [
        f"{rounds} round(s) of {count} conversations per layer after one warm-up round, "
        "layers alternating; each figure is the median round's CPU time of this process "
        "(one thread, uvloop, the server's app on a SQLite file with its settings).",
        "The answerer works a task in a phase of its own and the ask names it by agent id "
        "with a client-chosen id, as in the HTTP benchmark; the requests are encoded before "
        "the clock starts (that is the client's work).",
        "services: the service calls the four requests make (ask; listen and waitForAnswer "
        "finding their result at once, as after a wake-up), with nothing around them. "
        "sqlite3 alone: the part of those calls spent inside the sqlite3 module's calls "
        "(executing, fetching, committing), in this thread's CPU time, on an app of its own "
        f"whose connections time those calls ({median['clock_reading_ns'] / 1000:.2f} µs, "
        "a clock reading's cost, taken off each); the database's floor, whatever the code "
        "around it. "
        "Between services and app: the tRPC wire format, the token, validation, "
        "serialisation. Between app and the HTTP benchmark's figure: uvicorn, the sockets "
        "and the clients' wake-ups.",
    ]
    return section
