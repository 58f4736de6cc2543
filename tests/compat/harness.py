"""Helpers for the compatibility tier: find node, run the demo server as a subprocess."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

COMPAT_DIR = Path(__file__).resolve().parent
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def node_executable() -> str:
    """The ``node`` binary; its absence fails the test: this tier is not optional."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the official @trpc/client cannot be run")
    return node


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DemoServer:
    """``demo_server.py`` under uvicorn in a subprocess, on loopback."""

    def __init__(self, port: int, log_dir: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/trpc"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, name: str = "demo") -> None:
        assert self.process is None or self.process.poll() is not None
        log = (self.log_dir / f"server-{name}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(COMPAT_DIR / "demo_server.py"), "--port", str(self.port)],
            cwd=COMPAT_DIR,
            env={**os.environ, "DEMO_SERVER_NAME": name},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"demo server exited early:\n{self.logs()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"demo server did not answer within {START_TIMEOUT_S} s:\n{self.logs()}")

    def stop(self) -> float:
        """SIGTERM, as a service manager would; returns how long the shutdown took."""
        process = self.process
        if process is None or process.poll() is not None:
            return 0.0
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        return time.monotonic() - started

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')}"
            for path in sorted(self.log_dir.glob("server-*.log"))
        )
