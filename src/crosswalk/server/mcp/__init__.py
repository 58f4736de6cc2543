"""crosswalk's MCP server: agents ask and answer through native tools (docs/mcp.md).

``tools`` holds the tools (their descriptions, schemas and what they do, by calling the
tRPC procedures in process as the agent whose token came with the request); ``sdk``
serves them with the official ``mcp`` SDK over Streamable HTTP; ``endpoint`` is the
``/mcp`` route, which checks the bearer token and loads the SDK at its first request,
so a server that no agent asks over MCP never pays for the SDK's import.
"""
