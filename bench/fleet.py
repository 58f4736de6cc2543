"""A fleet of busy agents on one server: what N agents printing all the time cost the server
and the people using it.

The server runs the fake ``claude`` of tests/agents (a real subprocess per agent, each in
its own git worktree, started by the runner through ``agent.spawn``), every one printing
a stream-json line every 100 ms (the ``chatter`` step). At each level of N:

1. the fleet alone, nothing else connected: the server's CPU per second and per log
   line, its resident memory;
2. the same with two dashboard tabs open (the agents page and the fleet's initiative
   page), each following the live stream its page names and fetching its live region
   again on every ``change`` event, as htmx does: the change events each tab received
   although neither page shows a log line, and the server's CPU with them;
3. each page rendered again and again: its wall time and the server's CPU per render
   (the fleet's own CPU rate, from 2., taken off);
4. 20 asker/answerer pairs holding conversations (the load generator of
   :mod:`bench.conversations`) while the fleet runs and the tabs stay open: round trip
   p50/p99 and conversations/s.

Levels grow one fleet (agents are added, none restarted). CPU figures are the server
process's own (``/proc``); the agents' processes and the load generator are not in them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import conversations, servers
from bench.dashboard import Browser, Tab
from bench.loadgen import Window, rate_row
from bench.report import REPO_ROOT, Column, Section, Target
from bench.server import BenchServer
from bench.settings import Settings

FAKE_AGENTS = REPO_ROOT / "tests" / "agents" / "bin"
LEVELS = (0, 25, 50, 100)
QUICK_LEVELS = (0, 2)
#: Other levels for a run by hand, e.g. ``0,25`` (the first should be 0: the targets
#: compare with it).
LEVELS_ENV = "CW_BENCH_FLEET_LEVELS"
PAIRS = 20
QUICK_PAIRS = 4
LINE_EVERY_S = 0.1
SCRIPT_NAME = "chatter"
#: The longest an agent chatters if the benchmark never says stop (it always does).
CHATTER_CAP_S = 1800
SPAWN_WAIT_S = 120.0
END_WAIT_S = 30.0
KIND = "agent-id"

TARGET_P50_RATIO = 1.5  # round trip p50 at the largest N / at N = 0
TARGET_FLEET_CORE_PCT = 50.0  # the fleet alone, % of one core
TARGET_UNSHOWN_EVENTS = 0  # change events to a page that shows none of the changes
TARGET_PAGE_MS = 100.0  # server time to render a page


class Fleet:
    """The chattering agents of one server, all on tasks of one initiative."""

    def __init__(self, server: BenchServer, home: Path) -> None:
        self.server = server
        self.stop_file = home / "stop"
        self.pids: list[int] = []
        self.agent_ids: list[str] = []
        self._offsets: dict[Path, int] = {}
        origin = home / "origin"
        origin.mkdir(exist_ok=True)
        identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
        for args in (
            ["init", "--quiet", "-b", "main"],
            [*identity, "commit", "--quiet", "--allow-empty", "-m", "start"],
        ):
            subprocess.run(["git", *args], cwd=origin, check=True, capture_output=True, timeout=60)
        [self.initiative] = server.admin_mutations("initiative.create", [{"name": "fleet"}])
        [project] = server.admin_mutations("project.create", [{"name": "api", "url": str(origin)}])
        server.admin_mutations(
            "project.addToInitiative",
            [{"initiativeId": self.initiative["id"], "projectId": project["id"]}],
        )

    @staticmethod
    def environment(home: Path) -> dict[str, str]:
        """What the server needs to run the fake ``claude`` with the chatter script."""
        scripts = home / "scripts"
        scripts.mkdir(parents=True, exist_ok=True)
        step = {
            "kind": "chatter",
            "every": LINE_EVERY_S,
            "until": str(home / "stop"),
            "seconds": CHATTER_CAP_S,
        }
        (scripts / f"{SCRIPT_NAME}.json").write_text(json.dumps({"runs": [[step]]}))
        return {
            "PATH": f"{FAKE_AGENTS}{os.pathsep}{os.environ.get('PATH', '')}",
            "CW_FAKE_AGENT_SCRIPTS": str(scripts),
        }

    def grow_to(self, count: int) -> None:
        """Spawn agents until ``count`` run, then wait until each has printed a line."""
        missing = count - len(self.agent_ids)
        if missing <= 0:
            return
        start = len(self.agent_ids)
        tasks = self.server.admin_mutations(
            "task.create",
            [
                {
                    "name": f"busy {start + i}",
                    "initiativeId": self.initiative["id"],
                    "description": f"fake-script: {SCRIPT_NAME}",
                }
                for i in range(missing)
            ],
        )
        spawned = self.server.admin_mutations(
            "agent.spawn", [{"taskId": task["id"]} for task in tasks], timeout_s=SPAWN_WAIT_S
        )
        self.agent_ids += [agent["id"] for agent in spawned]
        self.pids += [agent["pid"] for agent in spawned if agent.get("pid")]
        deadline = time.monotonic() + SPAWN_WAIT_S
        waiting = [agent["id"] for agent in spawned]
        while waiting:
            waiting = [id for id in waiting if not self._chattering(id)]
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} agent(s) printed nothing in {SPAWN_WAIT_S:g} s")
            time.sleep(0.1)

    def _chattering(self, agent_id: str) -> bool:
        path = self._output(agent_id)
        return path.exists() and b"working, line" in path.read_bytes()

    def _output(self, agent_id: str) -> Path:
        return self.server.home / "agents" / agent_id / "session-1.jsonl"

    def lines_written(self) -> int:
        """Lines the agents wrote since the last call (all of them at the first)."""
        total = 0
        for agent_id in self.agent_ids:
            path = self._output(agent_id)
            offset = self._offsets.get(path, 0)
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read()
            total += data.count(b"\n")
            self._offsets[path] = offset + len(data)
        return total

    def end(self) -> None:
        """Every agent told to finish; any still running after ``END_WAIT_S`` is ended by
        its pid (each is the leader of its own process group)."""
        self.stop_file.touch()
        deadline = time.monotonic() + END_WAIT_S
        while time.monotonic() < deadline and any(map(_alive, self.pids)):
            time.sleep(0.1)
        for pid in filter(_alive, self.pids):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def fleet_window(server: BenchServer, fleet: Fleet, seconds: float) -> tuple[float, int, int, int]:
    """The server's CPU seconds and the lines written during ``seconds``, with the window."""
    fleet.lines_written()
    start_ns, before = time.perf_counter_ns(), server.cpu_seconds()
    time.sleep(seconds)
    cpu = server.cpu_seconds() - before
    end_ns = time.perf_counter_ns()
    return cpu, fleet.lines_written(), start_ns, end_ns


def page_time(
    browser: Browser, server: BenchServer, path: str, seconds: float, fleet_rate: float
) -> tuple[float, float]:
    """(wall ms p50, server CPU ms per render): renders of ``path`` back to back for about
    ``seconds``, the fleet's CPU rate taken off the server's CPU."""
    walls: list[float] = []
    started, before = time.perf_counter(), server.cpu_seconds()
    while len(walls) < 3 or (time.perf_counter() - started < seconds and len(walls) < 200):
        fetched = browser.get(path)
        if fetched.status != 200:
            raise RuntimeError(f"{path} answered {fetched.status}")
        walls.append(fetched.seconds * 1000)
    elapsed = time.perf_counter() - started
    cpu = server.cpu_seconds() - before - fleet_rate * elapsed
    return statistics.median(walls), max(cpu, 0.0) * 1000 / len(walls)


def run(settings: Settings) -> list[Section]:
    section = Section(
        "fleet",
        "Fleet: N chattering agents on one server (SQLite), dashboard tabs open, 20 pairs talking",
        [
            Column("agents", "agents"),
            Column("lines_per_s", "log lines/s", 0),
            Column("fleet_cpu_pct", "fleet alone: server CPU % of a core", 1),
            Column("us_per_line", "server CPU µs/log line", 0),
            Column("tabs_cpu_pct", "with 2 tabs: server CPU %", 1),
            Column("agents_events", "events to /agents", 0),
            Column("initiative_events", "events to initiative page", 0),
            Column("rss_mb", "server RSS MB", 0),
            Column("agents_page_ms", "/agents wall ms", 1),
            Column("agents_page_cpu_ms", "/agents server CPU ms", 1),
            Column("initiative_page_ms", "initiative wall ms", 1),
            Column("initiative_page_cpu_ms", "initiative server CPU ms", 1),
            Column("pairs", "pairs"),
            Column("rate", "conversations/s", 0),
            Column("p50_ms", "p50 ms", 2),
            Column("p99_ms", "p99 ms", 2),
            Column("conv_events", "events to /agents while talking", 0),
            Column("errors", "errors"),
        ],
    )
    levels: tuple[int, ...] = QUICK_LEVELS if settings.quick else LEVELS
    if os.environ.get(LEVELS_ENV):
        levels = tuple(int(level) for level in os.environ[LEVELS_ENV].split(","))
    pairs_count = settings.count(PAIRS, QUICK_PAIRS)
    alone_s = settings.pick(5.0, 1.0)
    tabs_s = settings.pick(5.0, 1.0)
    pages_s = settings.pick(1.5, 0.3)
    warmup, measured = settings.pick(1.0, 0.3), settings.pick(3.0, 1.0)
    home = settings.workdir("fleet")
    env = Fleet.environment(home)
    with BenchServer(home / "server", env=env) as server:
        fleet = Fleet(server, home)
        try:
            browser = Browser.sign_in(server)
            initiative_page = f"/initiatives/{fleet.initiative['id']}"
            for level in levels:
                try:
                    fleet.grow_to(level)
                    time.sleep(settings.pick(1.0, 0.2))  # the spawns' own writes are over
                    row = _level(
                        server, fleet, browser, initiative_page, level, pairs_count,
                        (alone_s, tabs_s, pages_s, warmup, measured), settings, section,
                    )  # fmt: skip
                except (OSError, RuntimeError) as exc:
                    # The levels done so far still say something: keep them.
                    section.errors.append(f"{level} agents: {type(exc).__name__}: {exc}")
                    break
                section.rows.append(row)
                print(f"fleet: {level} agents: {row}", flush=True)
            browser.close()
        finally:
            fleet.end()
    _targets(section)
    section.notes += [
        f"Each agent is a fake claude printing a stream-json assistant line every "
        f"{LINE_EVERY_S * 1000:g} ms (the runner reads its output file every 0.2 s). "
        f"Fleet alone: {alone_s:g} s with nothing else connected. With 2 tabs: {tabs_s:g} s "
        "with the agents page and the fleet's initiative page open, each following its live "
        "stream and fetching its live region on every change event (as htmx does); the "
        "events columns count what each tab received then (the greeting not counted): "
        "neither page shows a log line.",
        f"Page times: the full page rendered back to back for {pages_s:g} s with the fleet "
        "running; server CPU per render = the server's CPU then, less the fleet's rate with "
        "the tabs open, over the renders. /proc counts CPU in 10 ms ticks.",
        f"Conversations: {pairs_count} pairs by {KIND}, {warmup:g} s warm-up then {measured:g} "
        "s measured, while the fleet runs and the tabs stay open.",
        f"Machine: {os.cpu_count()} cores shared with whatever else runs (see the load "
        "average above): trust CPU per unit of work and same-run ratios over wall times.",
    ]
    return [section, servers.run(settings)]


def _level(
    server: BenchServer,
    fleet: Fleet,
    browser: Browser,
    initiative_page: str,
    level: int,
    pairs_count: int,
    durations: tuple[float, float, float, float, float],
    settings: Settings,
    section: Section,
) -> dict[str, Any]:
    alone_s, tabs_s, pages_s, warmup, measured = durations
    cpu, lines, _, _ = fleet_window(server, fleet, alone_s)
    row: dict[str, Any] = {
        "agents": level,
        "lines_per_s": lines / alone_s,
        "fleet_cpu_pct": 100 * cpu / alone_s,
        "us_per_line": 1e6 * cpu / lines if lines else math.nan,
        "rss_mb": resident_mb(server.pid),
    }
    tabs = [Tab(browser, "/agents"), Tab(browser, initiative_page)]
    try:
        cpu, _, start_ns, end_ns = fleet_window(server, fleet, tabs_s)
        row["tabs_cpu_pct"] = 100 * cpu / tabs_s
        row["agents_events"] = len(tabs[0].changes_between(start_ns, end_ns))
        row["initiative_events"] = len(tabs[1].changes_between(start_ns, end_ns))
        rate = cpu / tabs_s
        for key, path in (("agents_page", "/agents"), ("initiative_page", initiative_page)):
            row[f"{key}_ms"], row[f"{key}_cpu_ms"] = page_time(browser, server, path, pages_s, rate)
        pairs = conversations.make_pairs(server, pairs_count)
        window = Window.after(0.2, warmup, measured)
        result = conversations.measure(server, pairs, KIND, window, settings.processes)
        row.update({"pairs": pairs_count, **_conversation_columns(rate_row(result, window))})
        row["conv_events"] = len(tabs[0].changes_between(window.start_ns, window.end_ns))
        if result.errors:
            section.errors.append(f"{level} agents: {result.errors} error(s): {result.first_error}")
        for tab in tabs:
            if tab.error:
                section.errors.append(f"{level} agents, tab {tab.path}: {tab.error}")
    finally:
        for tab in tabs:
            tab.close()
    row["rss_mb"] = max(row["rss_mb"], resident_mb(server.pid))
    return row


def _conversation_columns(measured: dict[str, Any]) -> dict[str, Any]:
    return {key: measured[key] for key in ("rate", "p50_ms", "p99_ms", "errors")}


def _targets(section: Section) -> None:
    rows = {row["agents"]: row for row in section.rows}
    if 0 not in rows or len(rows) < 2:
        return
    top = rows[max(rows)]
    n = top["agents"]
    section.targets += [
        Target(
            f"fleet: round trip p50 with {n} agents / with none",
            top["p50_ms"] / rows[0]["p50_ms"] if rows[0]["p50_ms"] else math.nan,
            TARGET_P50_RATIO,
            "x",
            higher_is_better=False,
        ),
        Target(
            f"fleet: {n} agents alone, server CPU",
            top["fleet_cpu_pct"],
            TARGET_FLEET_CORE_PCT,
            "% of a core",
            higher_is_better=False,
        ),
        Target(
            f"fleet: change events to pages that show none of them, {n} agents",
            float(top["agents_events"] + top["initiative_events"]),
            TARGET_UNSHOWN_EVENTS + 1,
            "events",
            higher_is_better=False,
        ),
        Target(
            f"fleet: slowest page render, server CPU, {n} agents",
            max(top["agents_page_cpu_ms"], top["initiative_page_cpu_ms"]),
            TARGET_PAGE_MS,
            "ms",
            higher_is_better=False,
        ),
    ]
