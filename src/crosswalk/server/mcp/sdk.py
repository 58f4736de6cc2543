"""The MCP server on the official ``mcp`` SDK: its low-level ``Server`` with crosswalk's
tools, served over Streamable HTTP by the SDK's ``StreamableHTTPSessionManager``.

Imported by ``endpoint`` at the first ``/mcp`` request only (the SDK's import costs
about a second of CPU). The SDK runs requests concurrently, so a tool call that waits
(``ask``) never delays another (``pending``); each call finds who it acts as in the
HTTP request that carried it (``endpoint.CALLER``, put there after the token was
checked).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mcp.types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request

from crosswalk import __version__
from crosswalk.agent_mcp import SERVER_NAME
from crosswalk.server.mcp.tools import TOOLS, AgentTools, ToolResult

INSTRUCTIONS = (
    "crosswalk coordinates the coding agents working on one initiative. Ask a peer or the "
    "person with `ask` (it waits for the answer), see the questions waiting for you with "
    "`pending`, answer them with `answer`, and learn your task and peers with `whoami`."
)

#: The tools of the request's caller (an ``AgentTools``), from the request.
ToolsOf = Callable[[Request], AgentTools]


def build_server(tools_of: ToolsOf) -> Server[Any]:
    """The server with crosswalk's tools; ``tools_of(request)`` runs them as the agent
    whose token the request carried."""

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
        if not isinstance(ctx.request, Request):  # only the HTTP transport serves this
            return _to_protocol(ToolResult("error: no agent identity on this request", True))
        tools = tools_of(ctx.request)
        return _to_protocol(await tools.call(params.name, dict(params.arguments or {})))

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def session_manager(tools_of: ToolsOf) -> StreamableHTTPSessionManager:
    """The Streamable HTTP transport of the server, run inside its ``run()``.

    Stateless: every request stands alone (the token says who calls, and the tools keep
    nothing between calls), so the server holds nothing per agent between calls, no
    session expires under an agent that went quiet, and a restarted server serves the
    next call of a client that connected to the previous one. Plain JSON responses,
    one per request: a client needs no SSE parser, and crosswalk sends nothing unasked.
    """
    return StreamableHTTPSessionManager(build_server(tools_of), json_response=True, stateless=True)


def _to_protocol(result: ToolResult) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=result.text)], is_error=result.is_error
    )
