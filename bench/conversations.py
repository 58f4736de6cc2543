"""Full conversations between asker/answerer pairs, each agent on its own token, once per
way of naming the answerer: by agent id, by agent name, by task, by phase, by file.

One cycle: the asker sends ``conversation.ask`` (POST, with a fresh client-chosen id,
as ``cw ask`` does) then parks on
``conversation.waitForAnswer`` (GET long poll); the answerer, parked on
``conversation.listen`` (GET long poll), wakes and sends ``conversation.answer``
(POST). The round trip runs from the moment the ask is sent to the moment the
asker receives the answered conversation; every answer is checked.

Every pair is set up alike whatever the kind: the answerer has a name, works a task of
its own in a phase of its own, and its work changed files of its own (the ownership
index holds :data:`FILES_PER_ANSWERER` rows for it, one of them the file asked about),
so the kinds differ only in what the ask names (and so in how the server resolves it).
In the same run, on the same server, ``health`` is driven over as many connections as
there are pairs (each pair has one request in flight at a time): the server's CPU per
conversation is compared with its CPU per ``health`` request, the cheapest request it
serves. The 20-pair case is also driven by a second, independent client, the official
``@trpc/client`` (:mod:`bench.trpc_client`).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import trpc_client
from bench.ceiling import drive_health
from bench.loadgen import (
    Connection,
    Window,
    WorkerResult,
    measure_cpu,
    rate_row,
    run_workers,
    split,
)
from bench.report import Column, Section, Target
from bench.server import BenchAgent, BenchServer
from bench.settings import Settings
from crosswalk.db.engine import create_database_engine
from crosswalk.db.repositories.sqlalchemy import create_repositories
from crosswalk.domain.rows import FileChange
from crosswalk.domain.timestamps import utcnow
from crosswalk.ids import new_id

LEVELS = (1, 20, 100)
KINDS = ("agent-id", "agent-name", "task", "phase", "file")
#: Files in the ownership index per answerer (the one asked about among them).
FILES_PER_ANSWERER = 20
LISTEN_TIMEOUT_MS = 5_000
STOP = "that is all"  # the asker's last question: its answerer answers and leaves
WAIT_TIMEOUT_MS = 10_000
MAX_CYCLES_PER_PAIR = 1_000_000
TARGET_RATE_PAIRS = 20
TARGET_RATE = 600.0
TARGET_P50_MS = 3.0
TARGET_VS_HEALTH = 10.0  # server CPU per conversation / per health request
TARGET_FILE_VS_TASK = 2.0  # server CPU per conversation: asked by file / asked by task
TARGET_AGREEMENT_PCT = 25.0  # the two clients' figures differ by less than this
# server CPU per conversation: PostgreSQL / SQLite, same kind, same level, same run
TARGET_PG_VS_SQLITE = 1.5
PG_VS_SQLITE_PAIRS = 20
SECOND_CLIENT_PAIRS = 20  # the comparison the target checks
# also run at 1 pair, where neither client lets the server batch work: a diagnosis of
# any difference at 20 pairs (pacing or the requests themselves)
SECOND_CLIENT_LEVELS = (1, SECOND_CLIENT_PAIRS)


@dataclass(frozen=True)
class Pair:
    """An asker and the answerer it asks; the answerer may have a name and work
    ``task_id`` in ``phase_id`` (:func:`make_pairs` sets all three)."""

    asker: BenchAgent
    answerer: BenchAgent
    answerer_name: str | None = None
    task_id: str | None = None
    phase_id: str | None = None
    path: str | None = None  # a file the answerer's work changed

    def target(self, kind: str) -> dict[str, str]:
        """The ask's target fields for ``kind`` (one of :data:`KINDS`)."""
        fields = {
            "agent-id": ("toAgentId", self.answerer.id),
            "agent-name": ("toAgentId", self.answerer_name),
            "task": ("taskId", self.task_id),
            "phase": ("phaseId", self.phase_id),
            "file": ("file", self.path),
        }
        if kind not in fields:
            raise ValueError(f"unknown target kind {kind!r}; choose from {', '.join(KINDS)}")
        field, value = fields[kind]
        if value is None:
            raise ValueError(f"this pair's answerer cannot be asked by {kind}")
        return {field: value}


def make_pairs(server: BenchServer, count: int) -> list[Pair]:
    """``count`` fresh pairs (nothing left over from another level), each answerer on a
    task of its own in a phase of its own with files of its own changed, all in one new
    initiative (the askers too: asking by file looks in the asker's initiative)."""
    tag = secrets.token_hex(3)
    (initiative,) = server.admin_mutations("initiative.create", [{"name": f"bench {tag}"}])
    phases = server.admin_mutations(
        "phase.create",
        [{"initiativeId": initiative["id"], "name": f"phase {i}"} for i in range(count)],
    )
    tasks = server.admin_mutations(
        "task.create",
        [{"name": f"task {i}", "phaseId": phase["id"]} for i, phase in enumerate(phases)],
    )
    names = [f"answerer-{tag}-{i}" for i in range(count)]
    answerers = server.admin_mutations(
        "agent.create",
        [{"name": name, "taskId": task["id"]} for name, task in zip(names, tasks, strict=True)],
    )
    askers = [
        BenchAgent(made["id"], made["token"])
        for made in server.admin_mutations(
            "agent.create", [{"initiativeId": initiative["id"]}] * count
        )
    ]
    paths = [f"src/{tag}/pair_{i}.py" for i in range(count)]
    seed_ownership(server, initiative["id"], answerers, paths)
    return [
        Pair(
            asker,
            BenchAgent(answerer["id"], answerer["token"]),
            name,
            task["id"],
            phase["id"],
            path,
        )
        for asker, answerer, name, task, phase, path in zip(
            askers, answerers, names, tasks, phases, paths, strict=True
        )
    ]


def seed_ownership(
    server: BenchServer, initiative_id: str, answerers: Sequence[Any], paths: Sequence[str]
) -> None:
    """Each answerer's unmerged work changed ``FILES_PER_ANSWERER`` files, its path among
    them: written to the ownership index as the server's tracker writes it (the bench's
    agents have no worktrees for it to read)."""
    engine = create_database_engine(server.database_url)
    try:
        index = create_repositories(engine).ownership
        now = utcnow()
        for answerer, path in zip(answerers, paths, strict=True):
            files = [path, *(f"{path}.d/mod_{k}.py" for k in range(FILES_PER_ANSWERER - 1))]
            changes = [
                FileChange(
                    answerer["id"], False, name, initiative_id, answerer["taskId"], ((1, 40),), now
                )
                for name in files
            ]
            index.replace_changes(answerer["id"], merged=False, changes=changes)
    finally:
        engine.dispose()


async def drive_pairs(
    port: int | Sequence[int],
    pairs: Sequence[Pair],
    kind: str,
    window: Window,
    server_pid: int | None,
    interval_s: float | None = None,
) -> WorkerResult:
    """Run every pair's cycle until the window ends; count cycles inside it. With
    ``interval_s`` each pair starts a cycle at most that often (a paced run: the rate
    is set, not the most the server carries). Several ports: servers of one deployment,
    each connection opened to the next in turn (a round-robin balancer)."""
    result = WorkerResult()
    interval_ns = int(interval_s * 1e9) if interval_s else 0
    ports = [port] if isinstance(port, int) else list(port)
    askers = [
        await Connection.open(ports[2 * i % len(ports)], pair.asker.token)
        for i, pair in enumerate(pairs)
    ]
    answerers = [
        await Connection.open(ports[(2 * i + 1) % len(ports)], pair.answerer.token)
        for i, pair in enumerate(pairs)
    ]

    async def ask_loop(pair: Pair, connection: Connection) -> None:
        ask: dict[str, Any] = {"fromAgentId": pair.asker.id, **pair.target(kind), "question": ""}
        try:
            next_ns = time.perf_counter_ns()
            for n in range(MAX_CYCLES_PER_PAIR):
                if window.over:
                    break
                if interval_ns:
                    # Pairs start out of step, so the paced asks are spread, not bunched.
                    next_ns += interval_ns if n else secrets.randbelow(interval_ns)
                    delay_ns = next_ns - time.perf_counter_ns()
                    if delay_ns > 0:
                        await asyncio.sleep(delay_ns / 1e9)
                ask["question"] = question = f"q{n} from {pair.asker.id}"
                ask["id"] = new_id()  # as `cw ask` sends: a retry would not ask twice
                started = time.perf_counter_ns()
                asked = await connection.mutation("conversation.ask", ask)
                waited = await connection.query(
                    "conversation.waitForAnswer", {"id": asked["id"], "timeoutMs": WAIT_TIMEOUT_MS}
                )
                ended = time.perf_counter_ns()
                if waited["status"] != "answered" or waited["answer"] != "re: " + question:
                    raise RuntimeError(f"wrong answer for {asked['id']}: {waited!r}")
                if asked["toAgentId"] != pair.answerer.id:
                    raise RuntimeError(f"{kind} resolved to {asked['toAgentId']}, not the answerer")
                if window.ends_inside(ended):
                    result.completed += 1
                    result.latencies_ns.append(ended - started)
            ask["question"], ask["id"] = STOP, new_id()
            asked = await connection.mutation("conversation.ask", ask)
            await connection.query(
                "conversation.waitForAnswer", {"id": asked["id"], "timeoutMs": WAIT_TIMEOUT_MS}
            )
        except Exception as exc:
            result.error(exc)

    # An answerer leaves on its asker's last question, or at the latest here (when its
    # asker failed and never sent one).
    give_up_ns = window.end_ns + int((WAIT_TIMEOUT_MS + LISTEN_TIMEOUT_MS) * 1e6)

    async def answer_loop(pair: Pair, connection: Connection) -> None:
        listen = {"agentId": pair.answerer.id, "timeoutMs": LISTEN_TIMEOUT_MS}
        try:
            for _ in range(MAX_CYCLES_PER_PAIR):
                if time.perf_counter_ns() > give_up_ns:
                    raise TimeoutError("the asker never sent its last question")
                for question in await connection.query("conversation.listen", listen):
                    await connection.mutation(
                        "conversation.answer",
                        {"id": question["id"], "answer": "re: " + question["question"]},
                    )
                    if question["question"] == STOP:
                        return
        except Exception as exc:
            result.error(exc)

    try:
        await asyncio.gather(
            measure_cpu(window, result, server_pid),
            *map(ask_loop, pairs, askers),
            *map(answer_loop, pairs, answerers),
        )
    finally:
        for connection in (*askers, *answerers):
            await connection.close()
    return result


def measure(
    server: BenchServer,
    pairs: Sequence[Pair],
    kind: str,
    window: Window,
    processes: int,
    interval_s: float | None = None,
) -> WorkerResult:
    shares = split(pairs, processes)
    args = [
        (server.port, share, kind, window, server.pid if i == 0 else None, interval_s)
        for i, share in enumerate(shares)
    ]
    deadline = (window.end_ns - time.perf_counter_ns()) / 1e9
    return run_workers(drive_pairs, args, deadline_s=deadline + WAIT_TIMEOUT_MS / 1000)


def measure_health(server: BenchServer, connections: int, window: Window) -> WorkerResult:
    """``health`` over ``connections`` keep-alive connections, one call in flight on each."""
    deadline = (window.end_ns - time.perf_counter_ns()) / 1e9
    args = [(server.port, connections, window, server.pid)]
    return run_workers(drive_health, args, deadline_s=deadline + 5)


def _ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(b) else math.nan


@dataclass(frozen=True)
class Durations:
    warmup: float
    measured: float
    health: float

    @classmethod
    def of(cls, settings: Settings) -> Durations:
        return cls(settings.pick(1.0, 0.3), settings.pick(3.0, 1.0), settings.pick(2.0, 0.7))


def run(settings: Settings) -> list[Section]:
    section = Section(
        "conversations",
        "Conversations: asker/answerer pairs, full cycle over HTTP, by target kind",
        [
            Column("database", "database"),
            Column("kind", "target"),
            Column("pairs", "pairs"),
            Column("rate", "conversations/s", 0),
            Column("p50_ms", "p50 ms", 2),
            Column("p95_ms", "p95 ms", 2),
            Column("p99_ms", "p99 ms", 2),
            Column("server_cpu_pct", "server CPU %", 0),
            Column("client_cpu_pct", "client CPU %", 0),
            Column("server_us_per_op", "server CPU µs/conv", 0),
            Column("health_us_per_req", "server CPU µs/health", 0),
            Column("vs_health", "conv / health", 1),
            Column("vs_sqlite", "CPU/conv vs SQLite", 2),
            Column("errors", "errors"),
        ],
    )
    second = Section(
        "second_client",
        "Second client: the official @trpc/client under Node",
        [
            Column("kind", "target"),
            Column("pairs", "pairs"),
            Column("bench_rate", "bench client conv/s", 0),
            Column("trpc_rate", "@trpc/client conv/s", 0),
            Column("rate_ratio", "conv/s ratio", 2),
            Column("bench_server_us", "bench client: server µs/conv", 0),
            Column("trpc_server_us", "@trpc/client: server µs/conv", 0),
            Column("cpu_ratio", "server CPU ratio", 2),
            Column("trpc_p50_ms", "@trpc/client p50 ms", 2),
            Column("trpc_p99_ms", "@trpc/client p99 ms", 2),
            Column("paced_rate", "bench client paced: conv/s", 0),
            Column("paced_server_us", "bench client paced: server µs/conv", 0),
            Column("paced_cpu_ratio", "@trpc/client / paced: server CPU", 2),
            Column("bench_client_us", "bench client CPU µs/conv", 0),
            Column("trpc_client_us", "@trpc/client CPU µs/conv", 0),
            Column("agree", "within 25%"),
            Column("errors", "errors"),
        ],
    )
    times = Durations.of(settings)
    kinds = settings.kinds or KINDS
    profile = settings.profile_dir

    def levels(server: BenchServer, database: str) -> None:
        for level in LEVELS:
            pairs = make_pairs(server, level)  # fresh agents: nothing left over
            health = measure_health(server, level, Window.after(0.2, 0.3, times.health))
            health_us = 1e6 * _ratio(health.server_cpu_s, health.completed)
            if health.errors:
                section.errors.append(f"{database}, health x{level}: {health.first_error}")
            for kind in kinds:
                window = Window.after(0.2, times.warmup, times.measured)
                result = measure(server, pairs, kind, window, settings.processes)
                row: dict[str, Any] = {"database": database, "kind": kind, "pairs": level}
                row.update(rate_row(result, window))
                row["health_us_per_req"] = health_us
                row["vs_health"] = _ratio(float(row["server_us_per_op"]), health_us)
                section.rows.append(row)
                if result.errors:
                    section.errors.append(
                        f"{database}, {kind}, {level} pairs: {result.errors} error(s), "
                        f"first: {result.first_error}"
                    )
                if (
                    database == "sqlite"
                    and level in SECOND_CLIENT_LEVELS
                    and (not settings.quick or (kind == "task" and level == SECOND_CLIENT_PAIRS))
                ):
                    second.rows.append(_second_client(server, pairs, kind, row, times, second))

    with BenchServer(
        settings.workdir("conversations"),
        profile=profile / "server-conversations.txt" if profile else None,
    ) as server:
        levels(server, "sqlite")
    url = settings.postgres.database("conversations")
    if url is None:
        section.notes.append(f"PostgreSQL rows skipped: {settings.postgres.unavailable}")
    else:
        with BenchServer(settings.workdir("conversations-postgresql"), database_url=url) as server:
            levels(server, "postgresql")
    _targets(section, second, kinds)
    section.notes += [
        f"Each kind and level: {times.warmup:g} s warm-up, then {times.measured:g} s measured; "
        "a conversation counts when its answer is received inside the window (in a steady state "
        "that is the throughput; counting only those also asked inside would under-count by "
        "about one round trip's worth, a lot at 100 pairs).",
        "Round trip = ask sent -> answered conversation received by the asker (4 requests: "
        "ask, listen wakes, answer, waitForAnswer).",
        "target: what the ask names. agent-id / agent-name: toAgentId; task: taskId (whoever "
        "works it); phase: phaseId (the one other agent in it); file: file (the agent whose "
        "work changed it, from the ownership index). Every answerer works a task of its own in "
        f"a phase of its own and changed {FILES_PER_ANSWERER} files of its own, so the kinds "
        "differ only in the resolution.",
        f"Load generator: {settings.processes} process(es), one keep-alive connection per "
        "agent; server CPU µs/conv = server CPU time in the window / conversations "
        "(from /proc/<pid>/stat).",
        f"server CPU µs/health: the same server, same level, driving `health` (no auth, no "
        f"database) over as many connections as there are pairs for {times.health:g} s; "
        "conv / health = the two divided (target: at most "
        f"{TARGET_VS_HEALTH:g}, four requests and their database work per conversation).",
        "CPU/conv vs SQLite (PostgreSQL rows): the server CPU per conversation divided by "
        "SQLite's for the same kind and level in the same run (target: at most "
        f"{TARGET_PG_VS_SQLITE:g} at {PG_VS_SQLITE_PAIRS} pairs).",
    ]
    second.notes += [
        "The same pairs and cycle driven by the official @trpc/client 11 (httpLink; fetch over "
        "node:http with a keep-alive Agent, one socket per agent) right after the bench "
        "client's run of the same kind on the same server; ratios are @trpc/client / bench "
        "client.",
        *trpc_client.DIFFERENCES,
    ]
    if settings.quick:
        second.notes.append("--quick: the task kind only.")
    return [section, second]


def _second_client(
    server: BenchServer,
    pairs: Sequence[Pair],
    kind: str,
    bench_row: dict[str, Any],
    times: Durations,
    section: Section,
) -> dict[str, Any]:
    window = Window.after(trpc_client.START_S, times.warmup, times.measured)
    specs = [trpc_client.PairSpec(pair.asker, pair.answerer, pair.target(kind)) for pair in pairs]
    result = trpc_client.drive(server, specs, window)
    if result.errors:
        section.errors.append(
            f"@trpc/client, {kind}: {result.errors} error(s), first: {result.first_error}"
        )
    row = rate_row(result, window)
    # The bench client again, paced to the rate @trpc/client reached: the same requests
    # at the same rate, so what differs from @trpc/client's server CPU is the client.
    paced_window = Window.after(0.2, times.warmup, times.measured)
    interval = len(pairs) / row["rate"] if row["rate"] else None
    paced = rate_row(
        measure(server, pairs, kind, paced_window, processes=1, interval_s=interval),
        paced_window,
    )
    rate_ratio = _ratio(row["rate"], bench_row["rate"])
    cpu_ratio = _ratio(row["server_us_per_op"], bench_row["server_us_per_op"])
    worst = max(abs(rate_ratio - 1), abs(cpu_ratio - 1)) * 100
    return {
        "kind": kind,
        "pairs": len(pairs),
        "bench_rate": bench_row["rate"],
        "trpc_rate": row["rate"],
        "rate_ratio": rate_ratio,
        "bench_server_us": bench_row["server_us_per_op"],
        "trpc_server_us": row["server_us_per_op"],
        "cpu_ratio": cpu_ratio,
        "trpc_p50_ms": row["p50_ms"],
        "trpc_p99_ms": row["p99_ms"],
        "paced_rate": paced["rate"],
        "paced_server_us": paced["server_us_per_op"],
        "paced_cpu_ratio": _ratio(row["server_us_per_op"], paced["server_us_per_op"]),
        "bench_client_us": bench_row["client_us_per_op"],
        "trpc_client_us": row["client_us_per_op"],
        "worst_pct": worst if not math.isnan(worst) else math.inf,
        "agree": bool(worst < TARGET_AGREEMENT_PCT),
        "errors": result.errors,
    }


def _targets(section: Section, second: Section, kinds: Sequence[str]) -> None:
    sqlite = [row for row in section.rows if row["database"] == "sqlite"]
    rows = {(row["kind"], row["pairs"]): row for row in sqlite}
    postgres = [row for row in section.rows if row["database"] == "postgresql"]
    for row in postgres:
        same = rows.get((row["kind"], row["pairs"]))
        if same is not None:
            row["vs_sqlite"] = _ratio(row["server_us_per_op"], same["server_us_per_op"])
    compared = [row["vs_sqlite"] for row in postgres if row["pairs"] == PG_VS_SQLITE_PAIRS]
    if compared:
        section.targets.append(
            Target(
                f"server CPU per conversation, PostgreSQL / SQLite at {PG_VS_SQLITE_PAIRS} "
                "pairs (worst kind)",
                max(compared, key=lambda value: math.inf if math.isnan(value) else value),
                TARGET_PG_VS_SQLITE,
                "x",
                False,
            )
        )
    if ("agent-id", TARGET_RATE_PAIRS) in rows:
        section.targets += [
            Target(
                f"conversations/s at {TARGET_RATE_PAIRS} pairs, by agent-id",
                rows["agent-id", TARGET_RATE_PAIRS]["rate"],
                TARGET_RATE,
                "/s",
                higher_is_better=True,
            ),
            Target(
                "round trip p50, one pair, by agent-id",
                rows["agent-id", 1]["p50_ms"],
                TARGET_P50_MS,
                "ms",
                False,
            ),
        ]
    for kind in kinds:
        ratios = [row["vs_health"] for row in sqlite if row["kind"] == kind]
        section.targets.append(
            Target(
                f"server CPU per conversation / per health request, by {kind} (worst of "
                f"{', '.join(str(level) for level in LEVELS)} pairs)",
                max(ratios, key=lambda value: math.inf if math.isnan(value) else value),
                TARGET_VS_HEALTH,
                "x",
                False,
            )
        )
    if "file" in kinds and "task" in kinds:
        by_kind = {(row["kind"], row["pairs"]): row["server_us_per_op"] for row in sqlite}
        ratios = [
            _ratio(by_kind["file", level], by_kind["task", level])
            for level in LEVELS
            if ("file", level) in by_kind and ("task", level) in by_kind
        ]
        section.targets.append(
            Target(
                "server CPU per conversation, asked by file / by task (worst of "
                f"{', '.join(str(level) for level in LEVELS)} pairs)",
                max(ratios, key=lambda value: math.inf if math.isnan(value) else value),
                TARGET_FILE_VS_TASK,
                "x",
                False,
            )
        )
    if second.rows:
        second.targets.append(
            Target(
                f"@trpc/client vs bench client at {SECOND_CLIENT_PAIRS} pairs: conv/s and "
                "server CPU/conv differ (worst kind)",
                max(row["worst_pct"] for row in second.rows if row["pairs"] == SECOND_CLIENT_PAIRS),
                TARGET_AGREEMENT_PCT,
                "%",
                False,
            )
        )
