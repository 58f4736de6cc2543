"""The e2e tier: a real server process per test module, real `cw` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.runner_kit import Plan, make_plan, runner_server, stop_leftovers
from tests.support.server import ServerProcess


@pytest.fixture
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real server process. In a module marked ``runner`` it runs the fake agents
    (``runner_kit.runner_server``) and the agents it left running are stopped after."""
    if request.node.get_closest_marker("runner") is None:
        process = ServerProcess(home=tmp_path / "home").start()
        try:
            yield process
        finally:
            process.close()
        return
    for process in runner_server(tmp_path, request.getfixturevalue("fake_agents")):
        try:
            yield process
        finally:
            stop_leftovers(process)


@pytest.fixture
def plan(server: ServerProcess, tmp_path: Path) -> Plan:
    """An initiative with a phase, and a project (a git repository) linked to it."""
    return make_plan(server, tmp_path)
