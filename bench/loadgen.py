"""A lean load generator: tRPC over raw HTTP/1.1 keep-alive asyncio streams.

No HTTP library: a request is one ``write`` of pre-formatted bytes, a response is
one ``readuntil`` of the head plus one ``readexactly`` of the ``content-length``
body. Each :class:`Connection` carries one call at a time, so a benchmark opens
one connection per simulated agent. Work can be spread over several processes
(:func:`run_workers`), each with its own uvloop, which report their samples and
their own CPU time back to the parent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import uvloop

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 30.0
WORKER_JOIN_GRACE_S = 30.0

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_loads = json.loads


class CallError(Exception):
    """The server answered with a tRPC error envelope."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.code = code
        self.status = status


class Connection:
    """One keep-alive connection to ``127.0.0.1:port``; one call in flight at a time.

    ``send_*`` writes a request and returns at once; ``receive`` reads the next
    response. ``query``/``mutation`` do both. The split lets a benchmark stamp the
    moment a request left and, separately, when its answer arrived.
    """

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, token: str
    ) -> None:
        self._reader = reader
        self._writer = writer
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self._get_head = f"Host: 127.0.0.1:{port}\r\n{auth}\r\n".encode()
        self._post_head = (
            f"Host: 127.0.0.1:{port}\r\n{auth}Content-Type: application/json\r\n".encode()
        )

    @classmethod
    async def open(cls, port: int, token: str = "") -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer, port, token)

    def send_query(self, path: str, input: Any = None) -> None:
        target = f"/trpc/{path}"
        if input is not None:
            target += "?input=" + quote(_dumps(input), safe="")
        self._writer.write(b"GET " + target.encode() + b" HTTP/1.1\r\n" + self._get_head)

    def send_mutation(self, path: str, input: Any) -> None:
        body = _dumps(input).encode()
        self._writer.write(
            b"POST /trpc/"
            + path.encode()
            + b" HTTP/1.1\r\n"
            + self._post_head
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )

    async def receive(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
        """The next response's ``result.data``; raises :class:`CallError` for an error."""
        async with asyncio.timeout(timeout_s):
            head = await self._reader.readuntil(b"\r\n\r\n")
            lowered = head.lower()
            start = lowered.find(b"\r\ncontent-length:")
            if start < 0:
                raise RuntimeError(f"response without content-length: {head!r}")
            end = lowered.index(b"\r\n", start + 2)
            body = await self._reader.readexactly(int(lowered[start + 17 : end]))
        status = int(head[9:12])
        envelope = _loads(body)
        if status != 200 or "error" in envelope:
            error = envelope["error"]
            raise CallError(error["data"]["code"], error["message"], status)
        return envelope["result"].get("data")

    async def query(
        self, path: str, input: Any = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> Any:
        self.send_query(path, input)
        return await self.receive(timeout_s)

    async def mutation(self, path: str, input: Any, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
        self.send_mutation(path, input)
        return await self.receive(timeout_s)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)


# --- samples -----------------------------------------------------------------


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values (NaN when there are none)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def summarize_ms(latencies_ns: Sequence[int]) -> dict[str, float]:
    """p50/p95/p99/min/max in milliseconds, plus the sample count."""
    values = sorted(latencies_ns)
    out = {f"p{p}_ms": percentile(values, p) / 1e6 for p in (50, 95, 99)}
    out["min_ms"] = values[0] / 1e6 if values else float("nan")
    out["max_ms"] = values[-1] / 1e6 if values else float("nan")
    out["samples"] = len(values)
    return out


@dataclass(frozen=True)
class Window:
    """The measured interval, on the ``perf_counter_ns`` clock (CLOCK_MONOTONIC on
    Linux, shared by every process): a sample counts when it starts and ends inside."""

    start_ns: int
    end_ns: int

    @classmethod
    def after(cls, delay_s: float, warmup_s: float, duration_s: float) -> Window:
        start = time.perf_counter_ns() + int((delay_s + warmup_s) * 1e9)
        return cls(start, start + int(duration_s * 1e9))

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9

    def contains(self, start_ns: int, end_ns: int) -> bool:
        return self.start_ns <= start_ns and end_ns <= self.end_ns

    def ends_inside(self, end_ns: int) -> bool:
        """For throughput in a steady state: a sample counts when it completes inside
        (counting only those that also start inside under-counts by about one round
        trip's worth of samples, a lot when the round trip is long)."""
        return self.start_ns <= end_ns <= self.end_ns

    @property
    def over(self) -> bool:
        return time.perf_counter_ns() >= self.end_ns


async def sleep_until(deadline_ns: int) -> None:
    delay = (deadline_ns - time.perf_counter_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)


def sleep_until_sync(deadline_ns: int) -> None:
    delay = (deadline_ns - time.perf_counter_ns()) / 1e9
    if delay > 0:
        time.sleep(delay)


@dataclass
class WorkerResult:
    """What one load-generator process measured inside the window, and the CPU time it
    and (for the first worker) the server spent in that window."""

    completed: int = 0
    errors: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    first_error: str = ""

    def error(self, exc: BaseException) -> None:
        self.errors += 1
        if not self.first_error:
            self.first_error = f"{type(exc).__name__}: {exc}"

    @staticmethod
    def merge(results: Sequence[WorkerResult]) -> WorkerResult:
        merged = WorkerResult()
        for result in results:
            merged.completed += result.completed
            merged.errors += result.errors
            merged.latencies_ns.extend(result.latencies_ns)
            merged.cpu_s += result.cpu_s
            merged.server_cpu_s = max(merged.server_cpu_s, result.server_cpu_s)
            merged.first_error = merged.first_error or result.first_error
        return merged


def process_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


async def measure_cpu(window: Window, result: WorkerResult, server_pid: int | None) -> None:
    """Record this process's (and the server's) CPU time spent inside ``window``."""
    await sleep_until(window.start_ns)
    own, server = process_cpu_s(), cpu_seconds(server_pid) if server_pid else 0.0
    await sleep_until(window.end_ns)
    result.cpu_s = process_cpu_s() - own
    if server_pid:
        result.server_cpu_s = cpu_seconds(server_pid) - server


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux ``/proc``; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the ")" that closes the command name: state is field 0, utime 11, stime 12.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


WorkerFn = Callable[..., Coroutine[Any, Any, WorkerResult]]


def run_async(fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> Any:
    """Run ``fn(*args)`` to completion on a fresh uvloop."""
    return uvloop.run(fn(*args))


def _worker_main(fn: WorkerFn, args: tuple[Any, ...], results: multiprocessing.Queue[Any]) -> None:
    try:
        result: WorkerResult = run_async(fn, *args)
    except BaseException as exc:
        result = WorkerResult()
        result.error(exc)
    results.put(result)


def run_workers(
    fn: WorkerFn, args_per_worker: Sequence[tuple[Any, ...]], deadline_s: float
) -> WorkerResult:
    """Run ``fn(*args)`` once per entry, each in its own process, and merge the results.

    A single entry runs in this process (no fork). Worker processes are awaited until
    ``deadline_s`` (plus a grace period) and terminated, by pid, if they overrun.
    """
    if len(args_per_worker) == 1:
        result: WorkerResult = run_async(fn, *args_per_worker[0])
        return result
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[Any] = context.Queue()
    processes = [
        context.Process(target=_worker_main, args=(fn, args, results), daemon=True)
        for args in args_per_worker
    ]
    collected: list[WorkerResult] = []
    try:
        for process in processes:
            process.start()
        give_up = time.monotonic() + deadline_s + WORKER_JOIN_GRACE_S
        while len(collected) < len(processes):
            try:
                collected.append(results.get(timeout=max(0.1, give_up - time.monotonic())))
            except queue.Empty:
                break
    finally:
        for process in processes:
            process.join(timeout=2.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2.0)
    merged = WorkerResult.merge(collected)
    missing = len(processes) - len(collected)
    if missing:
        merged.error(RuntimeError(f"{missing} load-generator process(es) did not report"))
    return merged


def split(items: Sequence[T], parts: int) -> list[list[T]]:
    """``items`` dealt round-robin into at most ``parts`` non-empty lists."""
    parts = max(1, min(parts, len(items)))
    return [list(items[i::parts]) for i in range(parts)]


def rate_row(result: WorkerResult, window: Window) -> dict[str, float | int]:
    """Throughput, latency and CPU columns shared by the HTTP benchmarks; an "op" is
    whatever a completed sample is (a request, a conversation)."""
    latency = summarize_ms(result.latencies_ns)
    done = result.completed
    return {
        "rate": done / window.seconds,
        "p50_ms": latency["p50_ms"],
        "p95_ms": latency["p95_ms"],
        "p99_ms": latency["p99_ms"],
        "client_cpu_pct": 100 * result.cpu_s / window.seconds,
        "server_cpu_pct": 100 * result.server_cpu_s / window.seconds,
        "client_us_per_op": 1e6 * result.cpu_s / done if done else float("nan"),
        "server_us_per_op": 1e6 * result.server_cpu_s / done if done else float("nan"),
        "client_ceiling": done / result.cpu_s if result.cpu_s else float("nan"),
        "errors": result.errors,
    }
