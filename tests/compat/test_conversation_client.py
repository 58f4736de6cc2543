"""The official ``@trpc/client`` against the real crosswalk server: conversation.*.

``conversations.mjs`` makes the assertions on the client side; this test starts
the real server (``cw serve``) and node, and checks the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.compat.harness import COMPAT_DIR, node_executable
from tests.support.server import ServerProcess

CHECKS = [
    "health without credentials",
    "agent.create returns a token once",
    "httpLink: ask, listen, answer, waitForAnswer",
    "httpBatchLink: get, pending, listen, answer (one wins), waitForAnswer",
    "errors surface as TRPCClientError with data.code",
    "asking by file: file and line, checked at the wire",
    "httpSubscriptionLink: onQuestion delivers tracked questions",
    "httpSubscriptionLink: onAnswer delivers the answer",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(home=tmp_path / "home").start()
    try:
        yield process
    finally:
        process.close()


@pytest.mark.slow
def test_official_client_asks_listens_answers_and_subscribes(server: ServerProcess) -> None:
    result = subprocess.run(
        [node_executable(), str(COMPAT_DIR / "conversations.mjs")],
        cwd=COMPAT_DIR,
        env={**os.environ, "CW_URL": server.url, "CW_ADMIN_TOKEN": server.admin_token},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.log()}"
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"ok": True, "checks": CHECKS}
