"""``cw hook`` ends within its one total deadline whatever the server does: the real
``cw`` process against a small TCP server that misbehaves on purpose (down, silent,
trickling a byte at a time, an endless response), timed from start to exit."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.server import CW, free_port

pytestmark = pytest.mark.slow

#: Not a speed measurement (``make bench`` times the hook): a correctness bound a little
#: above the hook's 1 s, far below anything an agent CLI's hook timeout would notice.
WALL_BOUND_S = 1.5
#: What the endless response sends at most, so a hook that reads everything still ends.
ENDLESS_BYTES = 256 << 20

Behaviour = Callable[[socket.socket, threading.Event], int]


def _silent(conn: socket.socket, stop: threading.Event) -> int:
    conn.recv(65536)
    stop.wait(30)
    return 0


def _trickle(head: bytes, body: bytes) -> Behaviour:
    """Sends ``head`` at once, then ``body`` one byte every 0.1 s."""

    def behave(conn: socket.socket, stop: threading.Event) -> int:
        conn.recv(65536)
        conn.sendall(head)
        sent = len(head)
        for byte in body:
            if stop.wait(0.1):
                break
            conn.sendall(bytes([byte]))
            sent += 1
        return sent

    return behave


def _endless(conn: socket.socket, stop: threading.Event) -> int:
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
    conn.sendall(f"content-length: {ENDLESS_BYTES}\r\n\r\n".encode())
    chunk = b'{"result":' + b" " * 65526
    sent = 0
    try:
        while sent < ENDLESS_BYTES and not stop.is_set():
            sent += conn.send(chunk)
    except OSError:
        pass  # the client hung up: what a hook that stops reading does
    return sent


class Misbehaving:
    """Answers every connection on 127.0.0.1 with ``behaviour``; ``sent`` counts the
    bytes written per connection (until the client stopped reading)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self._behaviour = behaviour
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        self._listener.settimeout(0.05)  # so that the accepting thread sees ``close``
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/trpc"
        self.sent: list[int] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        # OSError: the client hung up first, which is what a hook that gives up does.
        with conn, contextlib.suppress(OSError):
            self.sent.append(self._behaviour(conn, self._stop))

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=10)


@pytest.fixture
def misbehaving() -> Iterator[Callable[[Behaviour], Misbehaving]]:
    started: list[Misbehaving] = []

    def start(behaviour: Behaviour) -> Misbehaving:
        started.append(Misbehaving(behaviour))
        return started[-1]

    yield start
    for server in started:
        server.close()


def run_hook(url: str, worktree: Path, event: str = "PostToolUse") -> tuple[float, int, str, str]:
    """Run the real ``cw hook claude EVENT``; return (wall seconds, code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "CLAUDE_"))}
    env.update(CW_AGENT_ID="agent-1", CW_TOKEN="cw_token", CW_URL=url, CW_HOME=str(worktree))
    payload = json.dumps({"session_id": "s1", "cwd": str(worktree), "hook_event_name": event})
    started = time.monotonic()
    done = subprocess.run(
        [CW, "hook", "claude", event],
        env=env,
        cwd=worktree,
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return time.monotonic() - started, done.returncode, done.stdout, done.stderr


def last_log_line(worktree: Path) -> str:
    return (worktree / ".crosswalk" / "hook.log").read_text().splitlines()[-1]


JSON_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 60\r\n\r\n"
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
)
CASES: dict[str, Behaviour] = {
    "silent": _silent,
    "trickling the response head": _trickle(b"", JSON_HEAD),
    "trickling the body after the head": _trickle(JSON_HEAD, b'{"result":{"data":' + b" " * 40),
    "trickling chunks": _trickle(CHUNKED_HEAD, b"1\r\n \r\n" * 20),
    "an endless response": _endless,
}


@pytest.mark.parametrize("event", ["PostToolUse", "Stop"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_hook_ends_within_its_deadline_whatever_the_server_does(
    case: str, event: str, misbehaving: Callable[[Behaviour], Misbehaving], tmp_path: Path
) -> None:
    server = misbehaving(CASES[case])

    elapsed, code, out, err = run_hook(server.url, tmp_path, event)

    assert (code, out, err) == (0, "", "")
    assert elapsed < WALL_BOUND_S, f"{case}: the hook took {elapsed:.2f} s"
    line = last_log_line(tmp_path)
    assert f"claude {event} " in line and ("gave up" in line or "skipped" in line), line


def test_an_endless_response_is_not_read_to_its_end(
    misbehaving: Callable[[Behaviour], Misbehaving], tmp_path: Path
) -> None:
    server = misbehaving(_endless)

    elapsed, code, out, _ = run_hook(server.url, tmp_path)
    server.close()

    assert (code, out) == (0, "")
    assert elapsed < WALL_BOUND_S
    # The hook stopped reading (and hung up) long before the end, whatever the socket
    # buffers held: it never holds a server's flood in memory.
    assert server.sent and all(sent < ENDLESS_BYTES for sent in server.sent), server.sent
    assert "larger than" in last_log_line(tmp_path)


def test_a_server_that_is_down_costs_a_fraction_of_the_deadline(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/trpc"

    elapsed, code, out, err = run_hook(url, tmp_path)

    assert (code, out, err) == (0, "", "")
    assert elapsed < WALL_BOUND_S
    assert "refused" in last_log_line(tmp_path)
