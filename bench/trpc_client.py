"""A second, independent load generator: the official ``@trpc/client`` under Node.

``trpc_client.mjs`` runs the same conversation cycle as :mod:`bench.conversations`
through ``createTRPCClient`` + ``httpLink`` (the client the seed's agents use), with
``fetch`` over ``node:http`` and a keep-alive ``Agent`` per simulated agent. The
``@trpc/client`` package is the one installed for the compatibility tests
(``tests/compat/node_modules``). The window is given on ``CLOCK_MONOTONIC``, which
Python's ``perf_counter_ns`` and Node's ``process.hrtime.bigint`` both read, so both
sides agree on when it starts and ends; the server's CPU time is read here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Window, WorkerResult, sleep_until_sync
from bench.server import BenchAgent, BenchServer

SCRIPT = Path(__file__).resolve().with_name("trpc_client.mjs")
NODE_MODULES = SCRIPT.parent.parent / "tests" / "compat" / "node_modules" / "@trpc" / "client"
START_S = 1.0  # Node's start and import of @trpc/client, before the warm-up
LISTEN_TIMEOUT_MS = 5_000
WAIT_TIMEOUT_MS = 10_000
EXIT_GRACE_S = 30.0

#: Why the two clients' figures can differ (shown under the comparison; the columns show
#: each effect).
DIFFERENCES = (
    "Both clients send the same requests: GET with `?input=` for queries, POST with a JSON "
    "body and content-length for mutations, the bearer token, one keep-alive socket per "
    "agent (node:http adds a `Connection: keep-alive` header). The responses are the same.",
    "conv/s: on a 2-core machine the client's own CPU competes with the server's. "
    "@trpc/client spends several times the bench client's CPU per conversation (client "
    "CPU µs/conv columns), so the server gets less of the machine (its CPU % is in the "
    "table above) and carries fewer conversations per second.",
    "server CPU/conv: the server's cost per conversation rises as the rate falls (compare "
    "the bench client's own 1- and 20-pair rows): with fewer requests in flight it handles "
    "each arrival on its own, paying the event loop's wake-up and a socket read per "
    "request instead of sharing them. The paced columns test that: the bench client run "
    "again at the rate @trpc/client reached costs the server what @trpc/client's run did "
    "(@trpc/client / paced near 1), so what differs is the rate the client drives, not "
    "the requests.",
)


@dataclass(frozen=True)
class PairSpec:
    asker: BenchAgent
    answerer: BenchAgent
    target: dict[str, str]  # the ask's target fields


def available() -> str | None:
    """None when Node and @trpc/client are there, else what is missing and how to get it."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not NODE_MODULES.is_dir():
        return "@trpc/client is not installed: run `make setup` (npm ci in tests/compat)"
    return None


def drive(server: BenchServer, pairs: Sequence[PairSpec], window: Window) -> WorkerResult:
    """Run the cycle for every pair through @trpc/client; the server's CPU in the window."""
    missing = available()
    if missing is not None:
        raise RuntimeError(f"the @trpc/client run cannot start: {missing}")
    spec = {
        "url": server.url,
        "windowStartNs": str(window.start_ns),
        "windowEndNs": str(window.end_ns),
        "listenTimeoutMs": LISTEN_TIMEOUT_MS,
        "waitTimeoutMs": WAIT_TIMEOUT_MS,
        "pairs": [
            {
                "asker": {"id": pair.asker.id, "token": pair.asker.token},
                "answerer": {"id": pair.answerer.id, "token": pair.answerer.token},
                "target": pair.target,
            }
            for pair in pairs
        ],
    }
    spec_path = server.home / "trpc-client-spec.json"
    spec_path.write_text(json.dumps(spec))
    process = subprocess.Popen(
        ["node", str(SCRIPT), str(spec_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        sleep_until_sync(window.start_ns)
        before = server.cpu_seconds()
        sleep_until_sync(window.end_ns)
        server_cpu_s = server.cpu_seconds() - before
        timeout = EXIT_GRACE_S + (WAIT_TIMEOUT_MS + LISTEN_TIMEOUT_MS) / 1000
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)
    result = WorkerResult(server_cpu_s=server_cpu_s)
    if process.returncode != 0:
        result.error(RuntimeError(f"node exited {process.returncode}: {err.strip()[-2000:]}"))
        return result
    report = json.loads(out.strip().splitlines()[-1])
    result.completed = report["completed"]
    result.latencies_ns = [int(value) for value in report["latenciesNs"]]
    result.cpu_s = report["cpuS"]
    result.errors = report["errors"]
    result.first_error = report["firstError"] or ""
    return result
