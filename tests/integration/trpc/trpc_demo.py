"""A demo router and ASGI helpers for the in-process tRPC wire tests.

The router knows nothing of crosswalk's domain: one procedure per protocol feature.
``create_context`` accepts ``authorization: Bearer good`` and lets public calls through
anonymously, recording every call so tests can see what the endpoint asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.types import ASGIApp, Message

from crosswalk.domain import errors
from crosswalk.server.trpc import Router, Tracked


@dataclass
class Ctx:
    user: str | None
    connection_params: dict[str, str] | None


@dataclass
class Probe:
    """What the demo procedures and context factory observed."""

    contexts: list[bool] = field(default_factory=list)  # the `public` flag of each call
    started: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    inputs: list[Any] = field(default_factory=list)


class HelloInput(BaseModel):
    name: str = Field(max_length=10)


class AddInput(BaseModel):
    a: int
    b: int


class FailInput(BaseModel):
    kind: str


class SleepInput(BaseModel):
    ms: int


class CountInput(BaseModel):
    upto: int
    lastEventId: str | None = None  # noqa: N815 - tRPC's wire name


class ForeverInput(BaseModel):
    tag: str
    lastEventId: str | None = None  # noqa: N815 - tRPC's wire name


FAILURES: dict[str, Exception] = {
    "invalid": errors.InvalidInputError("question is empty", field="question"),
    "cycle": errors.DependencyCycleError("task 't1' would depend on itself"),
    "not_found": errors.NotFoundError("task", "x1"),
    "conflict": errors.ConflictError("conversation 'c1' is already answered"),
    "precondition": errors.PreconditionFailedError("agent 'a1' is stopped"),
    "unauthorized": errors.UnauthorizedError("token expired"),
    "forbidden": errors.ForbiddenError("agent a1 may not act for a2"),
    "too_large": errors.PayloadTooLargeError("question too large"),
    "plain": RuntimeError("secret database detail"),
}


class Countdown:
    """A hand-written async iterator (not a generator) that records being closed."""

    def __init__(self, probe: Probe, start: int) -> None:
        self.probe = probe
        self.left = start

    def __aiter__(self) -> Countdown:
        return self

    async def __anext__(self) -> int:
        if self.left == 0:
            raise StopAsyncIteration
        self.left -= 1
        return self.left

    async def aclose(self) -> None:
        self.probe.closed.append("countdown")


def build_router(probe: Probe) -> Router[Ctx]:
    router: Router[Ctx] = Router()
    sub: Router[Ctx] = Router()

    @router.query("health", public=True)
    async def health(ctx: Ctx, inp: None) -> dict[str, Any]:
        return {"ok": True, "user": ctx.user}

    @router.query("demo.hello", input=HelloInput)
    async def hello(ctx: Ctx, inp: HelloInput) -> dict[str, Any]:
        return {"greeting": f"hello {inp.name}", "user": ctx.user}

    @router.query("demo.nothing")
    async def nothing(ctx: Ctx, inp: None) -> None:
        probe.inputs.append(inp)

    @router.query("demo.whoami")
    async def whoami(ctx: Ctx, inp: None) -> dict[str, Any]:
        return {"user": ctx.user, "connectionParams": ctx.connection_params}

    @router.query("demo.fail", input=FailInput)
    async def fail(ctx: Ctx, inp: FailInput) -> None:
        raise FAILURES[inp.kind]

    @router.query("demo.sleep", input=SleepInput)
    async def sleep(ctx: Ctx, inp: SleepInput) -> int:
        await asyncio.sleep(inp.ms / 1000)
        return inp.ms

    @router.query("demo.unserializable")
    async def unserializable(ctx: Ctx, inp: None) -> object:
        return object()

    @router.query("demo.model", input=HelloInput)
    async def model(ctx: Ctx, inp: HelloInput) -> HelloInput:
        return inp

    @sub.mutation("demo.add", input=AddInput)
    async def add(ctx: Ctx, inp: AddInput) -> dict[str, int]:
        return {"sum": inp.a + inp.b}

    @sub.mutation("demo.touch")
    async def touch(ctx: Ctx, inp: None) -> str:
        return "touched"

    @sub.subscription("demo.count", input=CountInput)
    async def count(ctx: Ctx, inp: CountInput) -> AsyncIterator[Tracked]:
        start = int(inp.lastEventId) + 1 if inp.lastEventId else 1
        for n in range(start, inp.upto + 1):
            yield Tracked(str(n), {"n": n})

    @sub.subscription("demo.plain")
    async def plain(ctx: Ctx, inp: None) -> AsyncIterator[Any]:
        yield Tracked("t1", "tracked")
        yield "untracked"

    @sub.subscription("demo.boom", input=FailInput)
    async def boom(ctx: Ctx, inp: FailInput) -> AsyncIterator[Any]:
        yield "before"
        raise FAILURES[inp.kind]

    @sub.subscription("demo.forever", input=ForeverInput)
    async def forever(ctx: Ctx, inp: ForeverInput) -> AsyncIterator[Any]:
        probe.started.append(inp.tag)
        probe.inputs.append(inp.lastEventId)
        try:
            yield Tracked("1", inp.tag)
            await asyncio.Event().wait()
            yield "unreachable"
        finally:
            probe.closed.append(inp.tag)

    @sub.subscription("demo.slowstart", input=SleepInput)
    async def slowstart(ctx: Ctx, inp: SleepInput) -> AsyncIterator[Any]:
        await asyncio.sleep(inp.ms / 1000)
        yield "late"

    @sub.subscription("demo.countdown")
    async def countdown(ctx: Ctx, inp: None) -> Countdown:
        return Countdown(probe, 2)

    @sub.subscription("demo.notagen")
    async def notagen(ctx: Ctx, inp: None) -> Any:
        return 42

    return router.merge(sub)


def make_context(probe: Probe) -> Callable[[Request, bool], Awaitable[Ctx]]:
    async def create_context(request: Request, public: bool) -> Ctx:
        probe.contexts.append(public)
        params = request.state.connection_params
        token = request.headers.get("authorization") or (params or {}).get("token")
        if token in ("Bearer good", "good"):
            return Ctx("admin", params)
        if token == "Bearer crash":
            raise RuntimeError("context crashed")
        if public:
            return Ctx(None, params)
        raise errors.UnauthorizedError("missing or invalid token")

    return create_context


def sse_events(body: str) -> list[dict[str, str]]:
    """Split an SSE body into events (field -> value), checking tRPC's framing."""
    assert body.endswith("\n\n\n"), body
    events = []
    for block in body.split("\n\n\n")[:-1]:
        event: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            event[name] = value
        events.append(event)
    return events


def data_of(event: dict[str, str]) -> Any:
    return json.loads(event["data"])


class Client:
    """A synchronous HTTP client for an in-process ASGI app.

    httpx's own ASGITransport, because Starlette 1.x's TestClient warns on import about
    httpx; one event loop per request keeps tests free of async plumbing.
    """

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = headers or {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return asyncio.run(self._request(method, url, **kwargs))

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://127.0.0.1", headers=self.headers
        ) as client:
            return await client.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", url, **kwargs)


class AsgiCall:
    """Drives an ASGI app by hand, for what a buffering test client cannot show:
    a live stream, a client that leaves mid-stream, a raw path sent verbatim."""

    def __init__(self, app: ASGIApp, raw_path: bytes, query: bytes = b"", **kw: Any) -> None:
        self.app = app
        self.scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": kw.get("method", "GET"),
            "scheme": "http",
            "path": raw_path.decode("latin-1"),
            "raw_path": raw_path,
            "root_path": kw.get("root_path", ""),
            "query_string": query,
            "headers": kw.get("headers", [(b"authorization", b"Bearer good")]),
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        self.chunks: list[bytes] = list(kw.get("chunks", [b""]))
        self.receives = 0
        self.sent: list[Message] = []
        self.chunk_arrived = asyncio.Event()
        self.disconnect = asyncio.Event()

    async def receive(self) -> Message:
        self.receives += 1
        if self.chunks:
            chunk = self.chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)
        self.chunk_arrived.set()

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def text(self) -> str:
        return b"".join(m.get("body", b"") for m in self.sent[1:]).decode()

    @property
    def finished(self) -> bool:
        return (
            bool(self.sent)
            and self.sent[-1]["type"] == "http.response.body"
            and not (self.sent[-1].get("more_body", False))
        )

    async def wait_for(self, needle: str, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while needle not in self.text:
                self.chunk_arrived.clear()
                await self.chunk_arrived.wait()
