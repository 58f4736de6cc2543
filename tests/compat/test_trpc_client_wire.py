"""The official ``@trpc/client`` 11.25.2 against the real server, over real HTTP.

``client.mjs`` makes the assertions on the client side (values, ``TRPCClientError``
codes, subscription events); these tests run it and check its summary.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import time
from typing import Any

import pytest
from tests.compat.harness import COMPAT_DIR, DemoServer, node_executable

NODE_TIMEOUT_S = 90.0

SUITE_CHECKS = [
    "public query without credentials",
    "query with input (httpLink)",
    "query returning None is null",
    "mutation (httpLink)",
    "httpBatchLink queries and mutations",
    "batch with mixed results and errors (207)",
    "domain errors map to codes (httpLink and httpBatchLink)",
    "input validation errors",
    "missing credentials are UNAUTHORIZED",
    "unknown path and wrong method",
    "body over the limit is PAYLOAD_TOO_LARGE",
    "tracked subscription values, then return completes it",
    "internal error mid-stream: client reconnects with Last-Event-ID and resumes",
    "subscription input validation error reaches onError",
    "subscription without credentials is UNAUTHORIZED",
]


def start_node(mode: str, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [node_executable(), str(COMPAT_DIR / "client.mjs"), mode],
        cwd=COMPAT_DIR,
        env={**os.environ, "TRPC_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(node: subprocess.Popen[str], server: DemoServer, seen: str = "") -> dict[str, Any]:
    """Wait for node; on failure show everything both sides said."""
    try:
        out, err = node.communicate(timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        node.kill()
        out, err = node.communicate()
    out = seen + out
    assert node.returncode == 0, f"node failed:\n{out}\n{err}\n{server.logs()}"
    summary: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return summary


def read_line(node: subprocess.Popen[str], timeout_s: float) -> str:
    """Next stdout line from node, or fail after ``timeout_s``."""
    assert node.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(node.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            node.kill()
            pytest.fail(f"node said nothing for {timeout_s} s")
    return node.stdout.readline()


@pytest.mark.slow
def test_official_client_speaks_the_wire(demo_server: DemoServer) -> None:
    demo_server.start()
    node = start_node("suite", demo_server.url)
    summary = finish(node, demo_server)
    assert summary == {"ok": True, "mode": "suite", "checks": SUITE_CHECKS}


@pytest.mark.slow
def test_subscription_resumes_across_a_server_restart(demo_server: DemoServer) -> None:
    demo_server.start("A")
    node = start_node("restart", demo_server.url)
    try:
        seen = ""
        while '"ready":true' not in seen:
            line = read_line(node, 15.0)
            assert line, f"node ended before it was ready:\n{seen}"
            seen += line
        # The stream is open: without endpoint.close() at shutdown uvicorn would wait for
        # it forever. With it, the stream ends without `return` and the client retries.
        shutdown_s = demo_server.stop()
        assert shutdown_s < 8.0
        time.sleep(0.2)
        demo_server.start("B")
        summary = finish(node, demo_server, seen)
    finally:
        if node.poll() is None:
            node.kill()
            node.communicate()
    assert summary["ok"] is True
    assert summary["resumedAt"] > 3  # B continued right after A's last event
    assert summary["states"] == ["connecting", "pending", "connecting", "pending"]
