"""``cw hook`` tells an agent, once, that another agent's unmerged work changed a file
its work changed, and the session start lists every way to ask (``target_kinds``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.cli.test_hook_events import FakeServer, context, run

from crosswalk.target_kinds import TARGET_KINDS


class OverlapServer(FakeServer):
    """Hands out ``overlaps`` with the answers: once, and never to a Stop."""

    def __init__(self) -> None:
        super().__init__()
        self.overlaps: list[dict[str, Any]] = []

    def mutation(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        found = super().mutation(path, input, timeout_s=timeout_s)
        found["overlaps"] = self.overlaps if input.get("takeAnswers") else []
        if input.get("takeAnswers"):
            self.overlaps = []
        return found


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> OverlapServer:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    return OverlapServer()


OVERLAP = {"file": "src/auth.py", "agentId": "A2", "agentName": "alice", "taskId": "T9",
           "taskName": "Auth"}  # fmt: skip


def test_an_overlap_names_the_file_the_agent_and_the_command(
    server: OverlapServer, tmp_path: Path
) -> None:
    server.overlaps = [OVERLAP]
    text = context(run(server, tmp_path, "PostToolUse"))
    assert 'src/auth.py: also changed by agent alice (task T9 "Auth").' in text
    assert 'Ask it: cw ask --agent alice "QUESTION"' in text
    assert run(server, tmp_path, "PostToolUse") is None  # told once
    log = (tmp_path / ".crosswalk" / "hook.log").read_text()
    assert "delivered overlap:src/auth.py:alice" in log


def test_the_session_start_shows_overlaps_and_every_way_to_ask(
    server: OverlapServer, tmp_path: Path
) -> None:
    server.overlaps = [OVERLAP]
    text = context(run(server, tmp_path, "SessionStart"))
    for kind in TARGET_KINDS:
        assert kind.example in text and kind.reaches in text
    assert "src/auth.py: also changed by agent alice" in text


def test_a_stop_takes_no_overlap(server: OverlapServer, tmp_path: Path) -> None:
    server.overlaps = [OVERLAP]
    assert run(server, tmp_path, "Stop") is None
    assert server.overlaps == [OVERLAP]
