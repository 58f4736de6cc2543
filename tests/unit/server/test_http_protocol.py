"""The server's transport sends a response's head with its body, in one write, and never
reorders bytes."""

from __future__ import annotations

import asyncio
from typing import Any

from crosswalk.server.http_protocol import _JoiningTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_a_head_goes_out_with_the_body_in_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        transport = _JoiningTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(HEAD)
        assert inner.writes == []  # held for what follows
        transport.write(b"{}")
        await asyncio.sleep(0)  # the end-of-turn flush finds nothing left
        return inner.writes

    assert asyncio.run(scenario()) == [HEAD + b"{}"]


def test_a_head_alone_goes_out_when_the_turn_ends_and_later_writes_follow_it() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        transport = _JoiningTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        await asyncio.sleep(0)
        transport.write(b"data: 1\n\n")  # a stream's event: not held
        transport.write(b"HTTP/1.1 is how this event starts\n\n")  # looks like a head
        transport.write(b"data: 2\n\n")
        return inner.writes

    assert asyncio.run(scenario()) == [
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n",
        b"data: 1\n\n",
        b"HTTP/1.1 is how this event starts\n\ndata: 2\n\n",
    ]


def test_closing_sends_what_is_held_first_and_the_rest_is_the_transports() -> None:
    async def scenario() -> RecordingTransport:
        inner = RecordingTransport()
        transport = _JoiningTransport(inner, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(HEAD)
        transport.close()
        await asyncio.sleep(0)
        assert transport.get_extra_info("peername") == "extra peername"
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [HEAD] and inner.closed
