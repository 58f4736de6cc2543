"""A demo tRPC app for the official ``@trpc/client``: one procedure per wire feature.

Served by ``demo_server.py`` under real uvicorn. Credentials: ``authorization: Bearer
demo-token`` or, for SSE (EventSource cannot set headers), ``connectionParams.token``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from crosswalk.domain import errors
from crosswalk.server.trpc import Router, Tracked, TrpcEndpoint

TOKEN = "demo-token"
SERVER_NAME = os.environ.get("DEMO_SERVER_NAME", "demo")


@dataclass(frozen=True)
class DemoCtx:
    user: str | None


class HelloInput(BaseModel):
    name: str = Field(max_length=10)


class AddInput(BaseModel):
    a: int
    b: int
    pad: str = ""


class RaiseInput(BaseModel):
    kind: str


class TicksInput(BaseModel):
    upto: int = Field(ge=0, le=100)
    lastEventId: str | None = None  # noqa: N815 - tRPC's wire name


class ResumableInput(BaseModel):
    lastEventId: str | None = None  # noqa: N815 - tRPC's wire name


FAILURES: dict[str, Callable[[], Exception]] = {
    "invalid": lambda: errors.InvalidInputError("question is empty"),
    "not_found": lambda: errors.NotFoundError("task", "x1"),
    "conflict": lambda: errors.ConflictError("conversation 'c1' is already answered"),
    "precondition": lambda: errors.PreconditionFailedError("agent 'a1' is stopped"),
    "unauthorized": lambda: errors.UnauthorizedError("token expired"),
    "forbidden": lambda: errors.ForbiddenError("agent a1 may not act for a2"),
    "too_large": lambda: errors.PayloadTooLargeError("question too large"),
    "plain": lambda: RuntimeError("secret database detail"),
}

router: Router[DemoCtx] = Router()


@router.query("health", public=True)
async def health(ctx: DemoCtx, inp: None) -> dict[str, Any]:
    return {"ok": True, "server": SERVER_NAME}


@router.query("greeting.hello", input=HelloInput)
async def hello(ctx: DemoCtx, inp: HelloInput) -> dict[str, Any]:
    return {"greeting": f"hello {inp.name}", "user": ctx.user}


@router.query("greeting.nothing")
async def nothing(ctx: DemoCtx, inp: None) -> None:
    return None


@router.mutation("counter.add", input=AddInput)
async def add(ctx: DemoCtx, inp: AddInput) -> dict[str, int]:
    return {"sum": inp.a + inp.b}


@router.query("errors.raise", input=RaiseInput)
async def raise_error(ctx: DemoCtx, inp: RaiseInput) -> None:
    raise FAILURES[inp.kind]()


@router.subscription("ticks", input=TicksInput)
async def ticks(ctx: DemoCtx, inp: TicksInput) -> AsyncIterator[Tracked]:
    for n in range(1, inp.upto + 1):
        await asyncio.sleep(0.01)
        yield Tracked(str(n), {"n": n})


@router.subscription("flaky", input=ResumableInput)
async def flaky(ctx: DemoCtx, inp: ResumableInput) -> AsyncIterator[Tracked]:
    """Fails with an internal error after two events; the client reconnects and resumes."""
    if inp.lastEventId is None:
        yield Tracked("1", {"n": 1, "resumedFrom": None})
        yield Tracked("2", {"n": 2, "resumedFrom": None})
        raise RuntimeError("transient failure")
    n = int(inp.lastEventId) + 1
    yield Tracked(str(n), {"n": n, "resumedFrom": inp.lastEventId})


@router.subscription("clock", input=ResumableInput)
async def clock(ctx: DemoCtx, inp: ResumableInput) -> AsyncIterator[Tracked]:
    """Endless ticks that resume after ``lastEventId``: survives a server restart."""
    n = int(inp.lastEventId) if inp.lastEventId else 0
    while True:
        n += 1
        yield Tracked(str(n), {"n": n, "server": SERVER_NAME})
        await asyncio.sleep(0.05)


async def create_context(request: Request, public: bool) -> DemoCtx:
    params = request.state.connection_params or {}
    if request.headers.get("authorization") == f"Bearer {TOKEN}" or params.get("token") == TOKEN:
        return DemoCtx("admin")
    if public:
        return DemoCtx(None)
    raise errors.UnauthorizedError("missing or invalid token")


endpoint = TrpcEndpoint(router, create_context, max_body_bytes=1 << 20, ping_interval_s=0.2)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    await endpoint.close()


app = Starlette(routes=[Mount("/trpc", app=endpoint)], lifespan=lifespan)
