"""``/mcp``: crosswalk's MCP server over Streamable HTTP, for agents holding a token.

Each request must carry an agent's token (``Authorization: Bearer <CW_TOKEN>``), checked
as the tRPC endpoint checks it (the same ``create_context``, so the same principal); a
tool then acts as that agent, through the same procedures. A refused request gets the
HTTP status the tRPC endpoint would give and a JSON-RPC error whose message is what
``cw`` prints (``error: ...`` and ``hint: ...``).

The SDK is imported, and its session manager started, at the first request to reach
here (on a worker thread: the import takes about a second of CPU), so ``cw serve``
starts as fast as before and a server no agent asks over MCP never loads it.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from crosswalk.refusals import refusal_hint
from crosswalk.server.context import Context
from crosswalk.server.mcp.tools import AgentTools
from crosswalk.server.trpc import TrpcEndpoint
from crosswalk.server.trpc.errors import TrpcError, to_trpc_error

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

logger = logging.getLogger("crosswalk.server")

#: The scope key holding the checked caller's tools, for the SDK's tool handler.
CALLER = "crosswalk.mcp.tools"
#: The JSON-RPC error code of a refused request (the SDK's server errors sit near it).
REFUSED = -32001

CreateContext = Callable[[Request, bool], Awaitable[Context]]


class McpEndpoint:
    """The ASGI app at ``/mcp``. A stopping server is not held open by a long ``ask``:
    ``stop_waiting()`` makes every wait end at its next wake-up (the change stream's
    close wakes them all) with the question still open, and ``close()`` then ends the
    SDK's session manager, cancelling whatever is left."""

    def __init__(self, create_context: CreateContext, trpc: TrpcEndpoint[Context]) -> None:
        self._create_context = create_context
        self._trpc = trpc
        self._manager: StreamableHTTPSessionManager | None = None
        self._starting = asyncio.Lock()
        self._running: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._closed = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        trpc_url = str(request.base_url).rstrip("/") + "/trpc"
        if self._closed:
            await _refuse(
                send, TrpcError("SERVICE_UNAVAILABLE", "Server is shutting down"), trpc_url
            )
            return
        if request.headers.get("authorization") is None:
            refusal = TrpcError("UNAUTHORIZED", "no agent identity: this request carries no token")
            hint = (
                "give the MCP client the agent's token (CW_AGENT_ID and CW_TOKEN for 'cw mcp'), "
                "or run 'cw mcp install --agent NAME' in the agent's worktree"
            )
            await _refuse(send, refusal, trpc_url, hint)
            return
        try:
            ctx = await self._create_context(request, False)
        except Exception as exc:
            await _refuse(send, to_trpc_error(exc), trpc_url)
            return
        agent_id = ctx.principal.agent_id
        if agent_id is None:
            refusal = TrpcError(
                "FORBIDDEN",
                "the MCP tools act as an agent: send an agent's token (its CW_TOKEN), "
                "not the admin token",
            )
            await _refuse(send, refusal, trpc_url)
            return

        async def call(path: str, input: Any) -> Any:
            return await self._trpc.call(ctx, path, input)

        tools = AgentTools(agent_id, call, url=trpc_url, stopping=lambda: self._closed)
        manager = await self._started()
        await manager.handle_request({**scope, CALLER: tools}, receive, send)

    async def _started(self) -> StreamableHTTPSessionManager:
        async with self._starting:
            if self._manager is None:
                sdk = await asyncio.to_thread(importlib.import_module, "crosswalk.server.mcp.sdk")
                manager: StreamableHTTPSessionManager = sdk.session_manager(_tools_of)
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await self._stop.wait()

                self._running = asyncio.create_task(run(), name="mcp sessions")
                await _first(ready.wait(), self._running)
                self._manager = manager
            return self._manager

    def stop_waiting(self) -> None:
        """Refuse new requests; the waits in flight end at their next wake-up."""
        self._closed = True

    async def close(self, timeout_s: float = 2.0) -> None:
        """Refuse new requests and stop the SDK's session manager, cancelling the calls
        still in flight."""
        self._closed = True
        self._stop.set()
        if self._running is not None:
            try:
                await asyncio.wait_for(self._running, timeout_s)
            except (TimeoutError, Exception):
                logger.warning("the MCP sessions did not close cleanly", exc_info=True)


def _tools_of(request: Request) -> AgentTools:
    tools = request.scope[CALLER]
    assert isinstance(tools, AgentTools)
    return tools


async def _first(waiting: Awaitable[Any], running: asyncio.Task[None]) -> None:
    """Wait for ``waiting``, or raise what ``running`` failed with first."""
    ready = asyncio.ensure_future(waiting)
    await asyncio.wait({ready, running}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        running.result()  # raises why the session manager stopped
        raise RuntimeError("the MCP session manager stopped before it started")


async def _refuse(send: Send, refusal: TrpcError, trpc_url: str, hint: str | None = None) -> None:
    """A refused request: the tRPC status, and ``cw``'s words as a JSON-RPC error."""
    hint = hint or refusal_hint(refusal.key, refusal.message, agent_named=True, url=trpc_url)
    message = f"error: {refusal.message}" + (f"\nhint: {hint}" if hint else "")
    body = json.dumps(
        {"jsonrpc": "2.0", "id": None, "error": {"code": REFUSED, "message": message}}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refusal.key == "UNAUTHORIZED":
        headers.append((b"www-authenticate", b'Bearer realm="crosswalk"'))
    await send({"type": "http.response.start", "status": refusal.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
