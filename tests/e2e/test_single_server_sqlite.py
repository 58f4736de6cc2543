"""SQLite serves one server: a second `cw serve` on the same file refuses to start,
naming the running one and pointing to PostgreSQL; once the first is gone (even by
SIGKILL) the file is free again."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from tests.support.server import CW, ServerProcess, free_port

from crosswalk.server.startup import EXIT_STARTUP


def serve_again(first: ServerProcess) -> subprocess.CompletedProcess[str]:
    """A second `cw serve` on ``first``'s database, on another port."""
    return subprocess.run(
        [CW, "serve", "--port", str(free_port()), "--db", first.database_url],
        env=first.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_server_on_the_same_sqlite_file_refuses_to_start(tmp_path: Path) -> None:
    first = ServerProcess(home=tmp_path / "home").start()
    try:
        assert first.process is not None
        second = serve_again(first)

        assert second.returncode == EXIT_STARTUP
        error = second.stderr
        assert f"pid {first.process.pid}, {first.url}" in error
        assert "already serves the SQLite database" in error
        assert "PostgreSQL" in error and "docs/deploy.md" in error
        assert "Traceback" not in error
        # The running server is untouched and still answers.
        assert first.call("query", "agent.list") is not None
    finally:
        first.close()


def test_the_file_is_free_again_after_the_first_server_is_killed(tmp_path: Path) -> None:
    first = ServerProcess(home=tmp_path / "home").start()
    try:
        first.stop(signal.SIGKILL)
        successor = ServerProcess(home=first.home).start()
        successor.close()
    finally:
        first.close()
