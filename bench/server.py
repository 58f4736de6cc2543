"""The real crosswalk server as a subprocess on 127.0.0.1, with its own data directory.

Whoever starts it stops it, by pid, in a ``finally`` (``with BenchServer(...)``). The
server's CPU time is read from ``/proc`` so each benchmark can show who was busy: the
server or the load generator.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.loadgen import DEFAULT_TIMEOUT_S, Connection, cpu_seconds, run_async

CW = str(Path(sys.executable).with_name("cw"))
STARTUP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class BenchAgent:
    """An agent the benchmark acts as: its id and its bearer token."""

    id: str
    token: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cw_env(home: Path, url: str, **extra: str) -> dict[str, str]:
    """The environment for ``cw`` processes: no stray ``CW_*`` from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CW_")}
    env.update(CW_HOME=str(home), CW_URL=url, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class BenchServer:
    """``cw serve`` on a free loopback port, its data in ``home``, its database at ``db``."""

    def __init__(
        self,
        home: Path,
        *,
        db: Path | None = None,
        profile: Path | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.env = env or {}  # added to the server's environment
        self.db = db or home / "crosswalk.db"
        self.database_url = database_url or f"sqlite:///{self.db}"
        self.profile = profile
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = home / "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/trpc"

    @property
    def pid(self) -> int:
        assert self.process is not None, "the server is not running"
        return self.process.pid

    @property
    def admin_token(self) -> str:
        return (self.home / "admin-token").read_text().strip()

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def create_agents(self, count: int) -> list[BenchAgent]:
        """Register ``count`` agents through ``agent.create`` (as the admin)."""
        created = self.admin_mutations("agent.create", [{}] * count)
        return [BenchAgent(agent["id"], agent["token"]) for agent in created]

    def admin_mutations(
        self, path: str, inputs: Sequence[Any], timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> list[Any]:
        """``path`` called once per input, in order, as the admin; the results."""

        async def call() -> list[Any]:
            admin = await Connection.open(self.port, self.admin_token)
            try:
                return [await admin.mutation(path, input, timeout_s) for input in inputs]
            finally:
                await admin.close()

        results: list[Any] = run_async(call)
        return results

    def admin_queries(self, path: str, inputs: Sequence[Any]) -> list[Any]:
        """``path`` queried once per input, in order, as the admin; the results."""

        async def call() -> list[Any]:
            admin = await Connection.open(self.port, self.admin_token)
            try:
                return [await admin.query(path, input) for input in inputs]
            finally:
                await admin.close()

        results: list[Any] = run_async(call)
        return results

    def start(self) -> BenchServer:
        self.home.mkdir(parents=True, exist_ok=True)
        serve = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        serve += ["--db", self.database_url]
        command = [CW, *serve]
        if self.profile is not None:
            # pyinstrument samples the whole server and writes its report when it exits.
            profiler = [sys.executable, "-m", "pyinstrument", "--interval", "0.0002"]
            command = [*profiler, "--outfile", str(self.profile), "-m", "crosswalk", *serve]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=cw_env(self.home, self.url, **self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log_text = self.log_path.read_text(errors="replace")
                self.process = None
                raise RuntimeError(f"the server exited at start:\n{log_text}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer within {STARTUP_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        """SIGTERM (SIGINT when profiled) by pid, then SIGKILL if it does not exit in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # A profiled server gets SIGINT: uvicorn shuts down and re-raises the signal it
        # caught, and only KeyboardInterrupt lets pyinstrument write its report first.
        process.send_signal(signal.SIGINT if self.profile is not None else signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
