"""HTTP/1.1 over a plain socket: just what ``cw`` needs to talk to one crosswalk server.

Why not ``http.client``: importing it pulls in the ``email`` parser (and ``ssl``), about
20 ms of a ``cw`` command's start-up, and ``cw hook`` runs after every tool call of every
agent. For the same reason plain ``http://`` uses the ``_socket`` extension directly
(``socket.py`` builds enums and imports ``selectors`` on import: 3 ms) and
``urllib.parse`` is not imported (3 ms): ``split_url`` and ``quote`` below do the little
this client needs. The server side is fixed (uvicorn behind ``/trpc``), so the subset is
small: one request at a time on a kept-alive connection, bodies framed by
``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the connection, and line
reads on a streaming body for server-sent events. ``https://`` works too: the same code
runs over a socket wrapped by the standard library's ``ssl``, imported only for such URLs.

Failures are ``OSError`` (refused, reset, timed out: ``TimeoutError``; an unknown host:
``HostLookupError``), ``ServerClosedError`` when the server closed the connection before
answering (a kept-alive connection it had dropped while idle), and ``BadResponseError``
for bytes that are not HTTP.
"""

from __future__ import annotations

import _socket

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from collections.abc import Callable

_MAX_LINE = 65536
_MAX_HEADERS = 100
_RECV_SIZE = 65536

HostLookupError = _socket.gaierror

#: Bytes ``quote`` leaves as they are (RFC 3986 unreserved characters).
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encode ``text`` as UTF-8, keeping unreserved characters and ``safe``."""
    keep = _UNRESERVED | frozenset(safe.encode("ascii"))
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode("utf-8"))


def split_url(url: str) -> tuple[str, str, int | None, str]:
    """``(scheme, host, port or None, path)`` of an ``http(s)://HOST[:PORT]/PATH`` URL;
    ``ValueError`` (saying what is wrong) for anything else."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"invalid server URL {url!r}: expected http://HOST:PORT/trpc")
    netloc, slash, path = rest.partition("/")
    netloc = netloc.partition("?")[0].partition("#")[0].rpartition("@")[2]
    path = (slash + path).partition("?")[0].partition("#")[0]
    if netloc.startswith("["):  # [IPv6]:port
        host, bracket, port_text = netloc[1:].partition("]")
        if not bracket or (port_text and not port_text.startswith(":")):
            raise ValueError(f"invalid server URL {url!r}: expected http://HOST:PORT/trpc")
        port_text = port_text[1:]
    else:
        host, _, port_text = netloc.partition(":")
    if not host:
        raise ValueError(f"invalid server URL {url!r}: expected http://HOST:PORT/trpc")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"invalid port in server URL {url!r}")
        port = int(port_text)
    return scheme, host.lower(), port, path


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
        self._sock: _socket.socket | None = None
        self._reader: LineReader | None = None
        self._host_header = host if ":" not in host else f"[{host}]"
        if port != (443 if tls else 80):
            self._host_header += f":{port}"

    def connect(self) -> None:
        sock = self._connect_tls() if self._tls else self._connect_plain()
        self._sock = sock
        self._reader = LineReader(sock.recv)

    def _connect_plain(self) -> _socket.socket:
        # An ASCII host goes to getaddrinfo as bytes: a str would load the idna codec.
        host: str | bytes = self.host.encode("ascii") if self.host.isascii() else self.host
        failure: OSError | None = None
        for family, kind, proto, _, address in _socket.getaddrinfo(
            host, self.port, 0, _socket.SOCK_STREAM
        ):
            sock = _socket.socket(family, kind, proto)
            try:
                sock.settimeout(self._connect_timeout_s)
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
                sock.connect(address)
            except OSError as exc:
                sock.close()
                failure = exc
                continue
            return sock
        raise failure or OSError(f"no address found for {self.host}")

    def _connect_tls(self) -> _socket.socket:
        import socket  # only https:// pays for these
        import ssl

        sock = socket.create_connection((self.host, self.port), timeout=self._connect_timeout_s)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

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
        sock, self._sock, self._reader = self._sock, None, None
        if sock is not None:
            sock.close()


class LineReader:
    """Buffered reads over a ``recv`` function: ``readline(limit)`` and ``read1(size)``."""

    def __init__(self, recv: Callable[[int], bytes]) -> None:
        self._recv = recv
        self._buffer = b""

    def _fill(self) -> bool:
        data = self._recv(_RECV_SIZE)
        self._buffer += data
        return bool(data)

    def readline(self, limit: int = _MAX_LINE) -> bytes:
        """Up to and including the next newline, at most ``limit`` bytes; ``b""`` at EOF."""
        while True:
            end = self._buffer.find(b"\n", 0, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) >= limit or not self._fill():
                return self._take(min(limit, len(self._buffer)))

    def read1(self, size: int) -> bytes:
        """Up to ``size`` bytes: what is buffered, else one ``recv``; ``b""`` at EOF."""
        if not self._buffer:
            self._fill()
        return self._take(min(size, len(self._buffer)))

    def _take(self, count: int) -> bytes:
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data


class HttpResponse:
    """A response whose body is read with ``read()`` (all of it) or ``readline(limit)``."""

    def __init__(
        self, reader: LineReader, status: int, headers: dict[str, str], method: str
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

    def read(self, limit: int | None = None) -> bytes:
        """The whole (remaining) body; ``BadResponseError`` once it passes ``limit`` bytes
        (a declared length past it is refused before anything is read)."""
        if limit is not None and self._left is not None and self._left > limit:
            raise BadResponseError(f"the response is larger than {limit} bytes")
        parts: list[bytes] = []
        size = 0
        while True:
            part = self._read_some(1 << 16, line=False)
            if not part:
                return b"".join(parts)
            size += len(part)
            if limit is not None and size > limit:
                raise BadResponseError(f"the response is larger than {limit} bytes")
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


def _read_response(reader: LineReader, method: str) -> HttpResponse:
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


def _read_headers(reader: LineReader) -> dict[str, str]:
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


def _chunk_size(reader: LineReader) -> int:
    line = reader.readline(_MAX_LINE)
    if not line:
        raise ServerClosedError("the server closed the connection in the middle of a body")
    size = line.split(b";", 1)[0].strip()
    try:
        return int(size, 16)
    except ValueError:
        raise BadResponseError(f"bad chunk size {line[:80]!r}") from None


def _skip_trailers(reader: LineReader) -> None:
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            return
    raise BadResponseError(f"more than {_MAX_HEADERS} trailer lines")
