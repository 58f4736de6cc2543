"""The server's transport sends a response's head with its body, in one write, never
reorders bytes, and sends the first response of a loop turn at once and the later ones
together at the turn's end."""

from __future__ import annotations

import asyncio
from typing import Any

from crosswalk.server.http_protocol import _JoiningTransport, _Turn


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


def respond(transport: _JoiningTransport) -> None:
    """A JSON response as uvicorn writes it: the head, then the body."""
    transport.write(HEAD)
    transport.write(b"{}")


def joining(inner: RecordingTransport, turn: _Turn | None = None) -> _JoiningTransport:
    return _JoiningTransport(inner, turn or _Turn(asyncio.get_running_loop()))  # type: ignore[arg-type]


def test_a_head_goes_out_with_the_body_in_one_write() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        transport = joining(inner)
        transport.write(HEAD)
        assert inner.writes == []  # held for what follows
        transport.write(b"{}")
        await asyncio.sleep(0)  # the end-of-turn flush finds nothing left
        return inner.writes

    assert asyncio.run(scenario()) == [HEAD + b"{}"]


def test_a_head_alone_goes_out_when_the_turn_ends_and_later_writes_follow_it() -> None:
    async def scenario() -> list[bytes]:
        inner = RecordingTransport()
        transport = joining(inner)
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
        transport = joining(inner)
        transport.write(HEAD)
        transport.close()
        await asyncio.sleep(0)
        assert transport.get_extra_info("peername") == "extra peername"
        return inner

    inner = asyncio.run(scenario())
    assert inner.writes == [HEAD] and inner.closed


def test_the_first_response_of_a_turn_goes_out_at_once_and_later_ones_at_its_end() -> None:
    async def scenario() -> None:
        turn = _Turn(asyncio.get_running_loop())
        first, second, third = RecordingTransport(), RecordingTransport(), RecordingTransport()
        a, b, c = joining(first, turn), joining(second, turn), joining(third, turn)
        a.write(HEAD)
        a.write(b"{}")
        assert first.writes == [HEAD + b"{}"]  # a lone request is answered at once
        b.write(HEAD)
        b.write(b"[]")
        c.write(HEAD)
        c.write(b"{}")
        assert second.writes == [] and third.writes == []  # held for the turn's end
        await asyncio.sleep(0)
        assert second.writes == [HEAD + b"[]"] and third.writes == [HEAD + b"{}"]
        # A new turn: its first response goes out at once again.
        c.write(HEAD)
        c.write(b"1")
        assert third.writes == [HEAD + b"{}", HEAD + b"1"]

    asyncio.run(scenario())


def test_writes_after_a_held_response_follow_it_in_order() -> None:
    async def scenario() -> list[bytes]:
        turn = _Turn(asyncio.get_running_loop())
        inner = RecordingTransport()
        respond(joining(RecordingTransport(), turn))  # the turn's first response
        transport = joining(inner, turn)
        transport.write(HEAD)
        transport.write(b"{}")
        transport.write(b"data: 1\n\n")  # while the response is held
        assert inner.writes == []
        await asyncio.sleep(0)
        transport.write(b"data: 2\n\n")
        return inner.writes

    assert asyncio.run(scenario()) == [HEAD + b"{}" + b"data: 1\n\n", b"data: 2\n\n"]


def test_a_held_response_is_sent_by_close_and_dropped_once_the_connection_is_gone() -> None:
    async def scenario() -> tuple[RecordingTransport, RecordingTransport]:
        turn = _Turn(asyncio.get_running_loop())
        respond(joining(RecordingTransport(), turn))  # the turn's first response
        closing, lost = RecordingTransport(), RecordingTransport()
        closed_by_server, lost_by_client = joining(closing, turn), joining(lost, turn)
        for transport in (closed_by_server, lost_by_client):
            transport.write(HEAD)
            transport.write(b"{}")
        closed_by_server.close()
        lost.closed = True  # the client went away before the turn ended
        await asyncio.sleep(0)
        return closing, lost

    closing, lost = asyncio.run(scenario())
    assert closing.writes == [HEAD + b"{}"] and closing.closed
    assert lost.writes == []


def test_a_turn_that_does_not_batch_sends_every_response_at_once() -> None:
    async def scenario() -> None:
        turn = _Turn(asyncio.get_running_loop(), batching=False)
        first, second = RecordingTransport(), RecordingTransport()
        respond(joining(first, turn))
        respond(joining(second, turn))
        assert first.writes == [HEAD + b"{}"] and second.writes == [HEAD + b"{}"]

    asyncio.run(scenario())
