"""The tests' throwaway PostgreSQL server ends with the run that started it, even a
run killed before it could stop the server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.postgres import PostgresUnavailableError, find_bindir

REPO = Path(__file__).resolve().parents[3]
STARTER = """
import sys
from tests.support.postgres import PostgresServer
server = PostgresServer().start()
print(server.process.pid, server.root, flush=True)
sys.stdin.read()
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_killed_run_leaves_no_server_behind() -> None:
    try:
        find_bindir()
    except PostgresUnavailableError as exc:
        pytest.skip(str(exc))
    with subprocess.Popen(
        [sys.executable, "-c", STARTER],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as starter:
        assert starter.stdout is not None
        pid_text, root = starter.stdout.readline().split()
        pid = int(pid_text)
        assert alive(pid)
        starter.kill()  # no chance to stop its server
    try:
        deadline = time.monotonic() + 30
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(pid), f"postgres {pid} outlived the run that started it"
    finally:
        if alive(pid):
            os.kill(pid, 9)
        shutil.rmtree(root, ignore_errors=True)
