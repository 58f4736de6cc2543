"""The socket-free parts of ``crosswalk.cli.transport``: URLs, quoting, line reads, bodies."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote as stdlib_quote
from urllib.parse import urlsplit

import pytest

from crosswalk.cli.transport import (
    BadResponseError,
    LineReader,
    ServerClosedError,
    _read_response,
    quote,
    split_url,
)


@pytest.mark.parametrize(
    "text",
    ['{"id":"a b&c","n":"é"}', "conversation.get", "~-_.", "%/?#[]@!$'()*+,;=", "日本", ""],
)
@pytest.mark.parametrize("safe", ["", ".,"])
def test_quote_matches_the_standard_library(text: str, safe: str) -> None:
    assert quote(text, safe) == stdlib_quote(text, safe=safe)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:7878/trpc",
        "https://Example.COM/trpc/",
        "http://user:pw@host:80/a/b?x=1#f",
        "http://[::1]:9000/trpc",
        "http://host",
    ],
)
def test_split_url_agrees_with_urlsplit(url: str) -> None:
    parts = urlsplit(url)
    assert split_url(url) == (parts.scheme, parts.hostname, parts.port, parts.path)


@pytest.mark.parametrize(
    "url", ["127.0.0.1:7878/trpc", "ftp://h/trpc", "http:///trpc", "http://h:x/", "http://h:0/"]
)
def test_split_url_refuses_what_it_cannot_use(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        split_url(url)


def _recv_from(chunks: list[bytes]) -> LineReader:
    pieces: Iterator[bytes] = iter(chunks)
    return LineReader(lambda size: next(pieces, b""))


def test_lines_across_receive_boundaries_and_limits() -> None:
    reader = _recv_from([b"ab", b"c\nde", b"f\n", b"tail"])
    assert [reader.readline(), reader.readline(), reader.readline(2), reader.readline()] == [
        b"abc\n",
        b"def\n",
        b"ta",
        b"il",
    ]
    assert reader.readline() == b""


def _response(raw: bytes, method: str = "GET", *, split: int = 3) -> tuple[int, bytes]:
    reader = _recv_from([raw[i : i + split] for i in range(0, len(raw), split)])
    response = _read_response(reader, method)
    return response.status, response.read()


def test_content_length_chunked_and_close_delimited_bodies() -> None:
    assert _response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA") == (200, b"hello")
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"
    )
    assert _response(chunked) == (200, b"abcde")
    assert _response(b"HTTP/1.0 404 Not Found\r\n\r\nall of it") == (404, b"all of it")
    assert _response(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n") == (204, b"")


def test_keep_alive_and_close_are_read_from_the_headers() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    assert _read_response(_recv_from([raw]), "GET").will_close
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    assert not _read_response(_recv_from([raw]), "GET").will_close


def test_streamed_lines_of_a_chunked_body() -> None:
    # "data: 1\ndata: 2\n" in chunks that cut lines anywhere
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    raw = head + b"7\r\ndata: 1\r\n6\r\n\ndata:\r\n3\r\n 2\n\r\n0\r\n\r\n"
    response = _read_response(_recv_from([raw]), "GET")
    lines = []
    while line := response.readline():
        lines.append(line)
    assert lines == [b"data: 1\n", b"data: 2\n"]


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"", ServerClosedError),
        (b"SSH-2.0-OpenSSH\r\n", BadResponseError),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", BadResponseError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", BadResponseError),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", ServerClosedError),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", BadResponseError),
    ],
)
def test_what_is_not_http_is_refused(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _response(raw)


@pytest.mark.parametrize(
    "raw",
    [  # the body is "hello world" each time
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world",  # refused before reading
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nhello world",  # until the connection ends
    ],
)
def test_a_body_past_the_limit_is_not_read_on(raw: bytes) -> None:
    response = _read_response(_recv_from([raw]), "GET")
    with pytest.raises(BadResponseError, match="larger than 10 bytes"):
        response.read(10)
    assert _read_response(_recv_from([raw]), "GET").read(11) == b"hello world"
