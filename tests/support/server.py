"""Start the real crosswalk server as a subprocess, and run the real `cw` against it.

Used by the e2e and compat tiers. The server listens on 127.0.0.1 only, on a
free port, with its own data directory; whoever starts it stops it (by pid).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CW = str(Path(sys.executable).with_name("cw"))
STARTUP_TIMEOUT_S = 30.0
# A network database's engine refuses blocking calls on the event loop (and logs this).
LOOP_GUARD = {"CW_FORBID_LOOP_DB": "1"}
BLOCKED_ON_LOOP = "blocking database call on the event loop thread"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    home: Path
    port: int = field(default_factory=free_port)
    database: str | None = None  # a database URL; default: SQLite in ``home``
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    spawned: list[subprocess.Popen[str]] = field(default_factory=list)
    #: Extra environment for the server process only (settings such as CW_PAGE_SIZE).
    server_env: dict[str, str] = field(default_factory=dict)
    #: Log lines of blocking database calls the server made on its event loop.
    blocked_on_loop: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/trpc"

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.home / 'crosswalk.db'}"

    @property
    def admin_token(self) -> str:
        return (self.home / "admin-token").read_text().strip()

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CW_")}
        env.update(CW_HOME=str(self.home), CW_URL=self.url, PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    def start(self, extra_args: tuple[str, ...] = ()) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        self.log_path = self.home / f"server-{self.port}-{time.monotonic_ns()}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                CW,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--db",
                self.database_url,
                *extra_args,
            ],
            env=self.env(**{**LOOP_GUARD, **self.server_env}),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"server did not answer within {STARTUP_TIMEOUT_S}s:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 10.0) -> int | None:
        """Stop the server by its pid; kill it if it does not exit in time."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log = self.log().splitlines()
        self.blocked_on_loop += [line for line in log if BLOCKED_ON_LOOP in line]
        return process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    # --- calling it ------------------------------------------------------------

    def call(self, kind: str, path: str, payload: Any = None, token: str | None = None) -> Any:
        """One tRPC call with the standard library; returns data or raises CallError."""
        headers = {"authorization": f"Bearer {token or self.admin_token}"}
        if kind == "query":
            query = "" if payload is None else "?input=" + urllib.parse.quote(json.dumps(payload))
            request = urllib.request.Request(f"{self.url}/{path}{query}", headers=headers)
        else:
            headers["content-type"] = "application/json"
            body = json.dumps(payload).encode() if payload is not None else b""
            request = urllib.request.Request(f"{self.url}/{path}", data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())["result"].get("data")
        except urllib.error.HTTPError as exc:
            error = json.loads(exc.read())["error"]
            raise CallError(error["data"]["code"], error["message"]) from None

    def create_agent(self, **fields: Any) -> dict[str, Any]:
        agent: dict[str, Any] = self.call("mutation", "agent.create", fields)
        return agent

    def cw(
        self,
        *args: str,
        agent: dict[str, Any] | None = None,
        input: str | None = None,
        timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `cw` executable, as ``agent`` if given (else as the admin)."""
        extra = dict(env or {})
        if agent is not None:
            extra.update(CW_AGENT_ID=agent["id"], CW_TOKEN=agent["token"])
        return subprocess.run(
            [CW, *args],
            env=self.env(**extra),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def spawn_cw(self, *args: str, agent: dict[str, Any] | None = None) -> subprocess.Popen[str]:
        extra: dict[str, str] = {}
        if agent is not None:
            extra.update(CW_AGENT_ID=agent["id"], CW_TOKEN=agent["token"])
        process = subprocess.Popen(
            [CW, *args],
            env=self.env(**extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.spawned.append(process)
        return process

    def close(self) -> None:
        """End of test: stop the server and any `cw` still running, all by pid. Fails
        if the server made a blocking database call on its event loop."""
        try:
            self.stop()
        finally:
            for process in self.spawned:
                if process.poll() is None:
                    process.kill()
                process.communicate(timeout=10)
            self.spawned.clear()
        if self.blocked_on_loop:
            raise AssertionError("\n".join(self.blocked_on_loop))


class CallError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
