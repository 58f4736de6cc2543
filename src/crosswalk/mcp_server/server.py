"""The MCP server over stdio, on the official ``mcp`` SDK's low-level ``Server``.

The tools block (a question waits for its answer), so each call runs on a daemon thread
of its own: the server keeps answering other requests meanwhile, and a process whose
client went away exits at once instead of waiting for a long poll to return.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from crosswalk import __version__
from crosswalk.agent_mcp import SERVER_NAME
from crosswalk.mcp_server.tools import TOOLS, AgentTools, ToolResult

T = TypeVar("T")

INSTRUCTIONS = (
    "crosswalk coordinates the coding agents working on one initiative. Ask a peer or the "
    "person with `ask` (it waits for the answer), see the questions waiting for you with "
    "`pending`, answer them with `answer`, and learn your task and peers with `whoami`."
)


def build_server(tools: AgentTools) -> Server[Any]:
    """The server with crosswalk's tools; ``tools`` runs them."""

    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=name, description=description, input_schema=schema)
                for name, (description, schema) in TOOLS.items()
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        return _to_protocol(await _on_daemon_thread(lambda: tools.call(params.name, arguments)))

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve(tools: AgentTools) -> None:
    """Serve on stdin/stdout until the client closes them."""

    async def run() -> None:
        server = build_server(tools)
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


def _to_protocol(result: ToolResult) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=result.text)], is_error=result.is_error
    )


async def _on_daemon_thread(work: Callable[[], T]) -> T:
    """``work()`` on a daemon thread, awaited; abandoned (not joined) if cancelled."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            value = work()
        except BaseException as exc:
            error = exc
            settle = lambda: deliver(lambda: future.set_exception(error))  # noqa: E731
        else:
            settle = lambda: deliver(lambda: future.set_result(value))  # noqa: E731
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=target, name="cw-mcp-tool", daemon=True).start()
    return await future
