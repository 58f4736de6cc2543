"""HTTP/1.1 over a plain ``socket``: just what ``cw`` needs to talk to one crosswalk server.

Why not ``http.client``: importing it pulls in the ``email`` parser (and ``ssl``), about
20 ms of a ``cw`` command's start-up, and ``cw hook`` runs after every tool call of every
agent. The server side is fixed (uvicorn behind ``/trpc``), so the subset is small:
one request at a time on a kept-alive connection, bodies framed by ``Content-Length``,
``Transfer-Encoding: chunked`` or the end of the connection, and line reads on a
streaming body for server-sent events. ``https://`` works too: the same code runs over a
socket wrapped by the standard library's ``ssl``, imported only for such URLs.

Failures are ``OSError`` (refused, reset, timed out: ``TimeoutError``), ``ServerClosedError``
when the server closed the connection before answering (a kept-alive connection it had
dropped while idle), and ``BadResponseError`` for bytes that are not HTTP.
"""

from __future__ import annotations

import socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from io import BufferedReader

_MAX_LINE = 65536
_MAX_HEADERS = 100


class ServerClosedError(ConnectionError):
    """The server closed the connection without sending a response."""


class BadResponseError(Exception):
    """The server's answer is not HTTP/1.x as this client understands it."""


class HttpConnection:
    """One connection to ``host:port``; ``tls`` wraps it with the default SSL context.

    ``connect`` is bounded by ``connect_timeout_s``; each later read by what
    ``set_timeout`` last set (``None``: wait as long as it takes).
    """

    def __init__(self, host: str, port: int, *, tls: bool, connect_timeout_s: float) -> None:
        self.host = host
        self.port = port
        self._tls = tls
        self._connect_timeout_s = connect_timeout_s
        self._sock: socket.socket | None = None
        self._reader: BufferedReader | None = None
        self._host_header = host if ":" not in host else f"[{host}]"
        if port != (443 if tls else 80):
            self._host_header += f":{port}"

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self._connect_timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls:
                import ssl  # only https:// pays for it

                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._reader = sock.makefile("rb")

    def set_timeout(self, timeout_s: float | None) -> None:
        if self._sock is not None:
            self._sock.settimeout(timeout_s)

    def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None = None
    ) -> HttpResponse:
        """Send one request and read the response's status line and headers."""
        if self._sock is None or self._reader is None:
            raise ServerClosedError("the connection is closed")
        lines = [f"{method} {target} HTTP/1.1", f"host: {self._host_header}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        if body is not None or method == "POST":
            lines.append(f"content-length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._sock.sendall(head + body if body else head)
        return _read_response(self._reader, method)

    def close(self) -> None:
        reader, sock = self._reader, self._sock
        self._reader = self._sock = None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()


class HttpResponse:
    """A response whose body is read with ``read()`` (all of it) or ``readline(limit)``."""

    def __init__(
        self, reader: BufferedReader, status: int, headers: dict[str, str], method: str
    ) -> None:
        self.status = status
        self.headers = headers
        connection = headers.get("connection", "").lower()
        self.will_close = "close" in connection
        self._reader = reader
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        self._chunk_left = 0
        self._left: int | None = None  # bytes of a Content-Length body still to read
        self._done = False
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            self._done = True
        elif not self._chunked:
            length = headers.get("content-length")
            if length is not None:
                try:
                    self._left = int(length)
                except ValueError:
                    raise BadResponseError(f"bad Content-Length {length!r}") from None
                self._done = self._left == 0
            else:
                self.will_close = True  # the body ends when the connection does

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def read(self) -> bytes:
        """The whole (remaining) body."""
        parts: list[bytes] = []
        while True:
            part = self._read_some(1 << 16, line=False)
            if not part:
                return b"".join(parts)
            parts.append(part)

    def readline(self, limit: int = _MAX_LINE) -> bytes:
        """One line of the body, with its newline; ``b""`` at the end of the body."""
        line = b""
        while len(line) < limit:
            part = self._read_some(limit - len(line), line=True)
            if not part:
                break
            line += part
            if line.endswith(b"\n"):
                break
        return line

    def _read_some(self, size: int, *, line: bool) -> bytes:
        if self._done:
            return b""
        if self._chunked:
            if self._chunk_left == 0:
                self._chunk_left = _chunk_size(self._reader)
                if self._chunk_left == 0:
                    _skip_trailers(self._reader)
                    self._done = True
                    return b""
            size = min(size, self._chunk_left)
        elif self._left is not None:
            size = min(size, self._left)
        data = self._reader.readline(size) if line else self._reader.read1(size)
        if not data:
            if self._left is None and not self._chunked:
                self._done = True  # close-delimited body: the end
                return b""
            raise ServerClosedError("the server closed the connection in the middle of a body")
        if self._chunked:
            self._chunk_left -= len(data)
            if self._chunk_left == 0 and self._reader.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
                raise BadResponseError("a chunk does not end with CRLF")
        elif self._left is not None:
            self._left -= len(data)
            self._done = self._left == 0
        return data


def _read_response(reader: BufferedReader, method: str) -> HttpResponse:
    while True:
        status_line = reader.readline(_MAX_LINE)
        if not status_line:
            raise ServerClosedError("the server closed the connection without answering")
        version, _, rest = status_line.decode("latin-1").rstrip("\r\n").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise BadResponseError(f"not an HTTP response: {status_line[:80]!r}")
        headers = _read_headers(reader)
        status = int(code)
        if status == 100:
            continue  # "100 Continue": the real response follows
        if version == "HTTP/1.0" and "keep-alive" not in headers.get("connection", "").lower():
            headers["connection"] = "close"
        return HttpResponse(reader, status, headers, method)


def _read_headers(reader: BufferedReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE)
        if not line:
            raise ServerClosedError("the server closed the connection in the middle of headers")
        if line in (b"\r\n", b"\n"):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise BadResponseError(f"malformed header line {line[:80]!r}")
        key = name.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise BadResponseError(f"more than {_MAX_HEADERS} header lines")


def _chunk_size(reader: BufferedReader) -> int:
    line = reader.readline(_MAX_LINE)
    if not line:
        raise ServerClosedError("the server closed the connection in the middle of a body")
    size = line.split(b";", 1)[0].strip()
    try:
        return int(size, 16)
    except ValueError:
        raise BadResponseError(f"bad chunk size {line[:80]!r}") from None


def _skip_trailers(reader: BufferedReader) -> None:
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            return
    raise BadResponseError(f"more than {_MAX_HEADERS} trailer lines")
