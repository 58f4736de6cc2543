"""Fixtures for the compatibility tier: the npm packages and a real uvicorn demo server."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.compat.harness import COMPAT_DIR, DemoServer, free_port, node_executable

NPM_TIMEOUT_S = 300


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """``tests/compat/node_modules``, installed from the lockfile when missing."""
    node_executable()
    modules = COMPAT_DIR / "node_modules"
    if not (modules / "@trpc" / "client").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed and tests/compat/node_modules is missing")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=COMPAT_DIR,
            check=True,
            timeout=NPM_TIMEOUT_S,
        )
    return modules


@pytest.fixture
def demo_server(node_modules: Path, tmp_path: Path) -> Iterator[DemoServer]:
    server = DemoServer(free_port(), tmp_path)
    try:
        yield server
    finally:
        server.stop()
