"""A signed-in dashboard tab, as the fleet benchmark drives it: it opens a page, follows
the live stream the page names (``sse-connect``) and, on each ``change`` event, fetches
the page's live region again (``hx-get`` with ``HX-Request: true``), as htmx does in a
browser. It counts the events it received, stamped, so a benchmark can tell how many
reached it inside a window.

Plain sockets and ``http.client`` in a thread of their own: the benchmark's load
generator keeps its event loop.
"""

from __future__ import annotations

import html
import http.client
import re
import socket
import threading
import time
from dataclasses import dataclass

from bench.server import BenchServer

STREAM_READ_TIMEOUT_S = 0.2
_SSE_CONNECT = re.compile(r'sse-connect="([^"]+)"')
_LIVE_GET = re.compile(r'id="live"[^>]*hx-get="([^"]+)"')
_CHANGE = re.compile(rb"event: change\r?\ndata: ([^\r\n]*)\r?\n\r?\n")
#: The data of the event every (re)connection starts with: not a change.
GREETING = b"connected"


@dataclass(frozen=True)
class Fetched:
    status: int
    body: str
    seconds: float


class Browser:
    """The session cookie of a signed-in browser, and page fetches with it."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.cookie = cookie
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    @classmethod
    def sign_in(cls, server: BenchServer) -> Browser:
        """Signed in through a one-time link, as ``cw dashboard`` does."""
        [link] = server.admin_mutations("dashboard.signInLink", [None])
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            connection.request("GET", link["path"])
            response = connection.getresponse()
            response.read()
            cookie = response.getheader("set-cookie") or ""
        finally:
            connection.close()
        match = re.search(r"cw_session=([^;]+)", cookie)
        if response.status != 200 or match is None:
            raise RuntimeError(f"signing in answered {response.status} without a session")
        return cls(server.port, match.group(1))

    def get(self, path: str, *, live: bool = False) -> Fetched:
        headers = {"Cookie": f"cw_session={self.cookie}"}
        if live:
            headers["HX-Request"] = "true"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self._connection.request("GET", path, headers=headers)
                response = self._connection.getresponse()
                body = response.read().decode()
                return Fetched(response.status, body, time.perf_counter() - started)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed the idle keep-alive connection: as a browser, reconnect.
                self._connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._connection.close()


class Tab(threading.Thread):
    """One open page: follows its live stream and refreshes its live region on each
    change, until :meth:`close`."""

    def __init__(self, browser: Browser, path: str) -> None:
        super().__init__(name=f"tab {path}", daemon=True)
        self.path = path
        self._browser = Browser(browser.port, browser.cookie)
        page = self._browser.get(path)
        if page.status != 200:
            raise RuntimeError(f"{path} answered {page.status}")
        stream = _SSE_CONNECT.search(page.body)
        live = _LIVE_GET.search(page.body)
        if stream is None or live is None:
            raise RuntimeError(f"{path} has no live region")
        self.stream_url = html.unescape(stream.group(1))
        self.live_url = html.unescape(live.group(1))
        #: perf_counter_ns of each change event received, and what it named
        self.changes: list[tuple[int, str]] = []
        self.refreshes = 0
        self.error: str | None = None
        self._closed = threading.Event()
        self._socket = socket.create_connection(("127.0.0.1", browser.port), timeout=10)
        # HTTP/1.0: the stream comes unchunked, so events are plain lines.
        self._socket.sendall(
            f"GET {self.stream_url} HTTP/1.0\r\nHost: 127.0.0.1:{browser.port}\r\n"
            f"Cookie: cw_session={browser.cookie}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self._socket.settimeout(STREAM_READ_TIMEOUT_S)
        self._greeted = threading.Event()
        self.start()
        if not self._greeted.wait(10):
            self.close()
            raise RuntimeError(f"the live stream of {path} never greeted: {self.error}")

    def run(self) -> None:
        buffer = b""
        try:
            while not self._closed.is_set():
                try:
                    data = self._socket.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    if not self._closed.is_set():
                        self.error = "the live stream ended"
                    return
                buffer += data
                end = 0
                changed = False
                for match in _CHANGE.finditer(buffer):
                    end = match.end()
                    what = match.group(1)
                    if what == GREETING and not self._greeted.is_set():
                        self._greeted.set()
                        continue
                    self.changes.append((time.perf_counter_ns(), what.decode()))
                    changed = True
                buffer = buffer[end:]
                if changed:
                    # Several events read at once: htmx would fetch once for the last.
                    fetched = self._browser.get(self.live_url, live=True)
                    if fetched.status != 200:
                        self.error = f"refreshing {self.live_url} answered {fetched.status}"
                        return
                    self.refreshes += 1
        except OSError as exc:
            if not self._closed.is_set():
                self.error = f"{type(exc).__name__}: {exc}"

    def changes_between(self, start_ns: int, end_ns: int) -> list[str]:
        return [what for stamp, what in list(self.changes) if start_ns <= stamp <= end_ns]

    def close(self) -> None:
        self._closed.set()
        self.join(5)
        self._socket.close()
        self._browser.close()
