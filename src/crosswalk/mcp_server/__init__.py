"""``cw mcp``: crosswalk as an MCP server, so agents ask and answer through native tools.

``tools`` holds the tools (their descriptions, schemas and what they do, with the ``cw``
client's own pieces); ``server`` serves them over stdio with the official ``mcp`` SDK.
Only ``cw mcp`` imports this package (lazily): every other ``cw`` command stays
standard-library only. See docs/mcp.md.
"""
