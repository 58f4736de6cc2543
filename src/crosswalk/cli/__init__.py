"""``cw``, the crosswalk command-line client.

Import rule: this package imports only the standard library, ``crosswalk`` (for
``__version__``), ``crosswalk.config`` and ``crosswalk.ids``, so ``cw`` starts in
tens of milliseconds; ``tests/integration/cli/test_imports.py`` enforces it. The server
is imported lazily, inside ``cw serve`` only; ``cw mcp`` relays to the server's MCP
endpoint with the standard library (``mcp_relay``). For the same reason the modules on the
client path do not import ``typing`` at runtime (2-3 ms): they write
``TYPE_CHECKING = False`` (which mypy treats like ``typing.TYPE_CHECKING``) and import
typing names inside ``if TYPE_CHECKING:``; the handler-facing client interface is the
``typing.Protocol`` in ``rpc``.

Modules: ``main`` (entry point, exit codes), ``commands`` (how commands are declared),
``context`` (settings and the lazy client), ``client`` (the tRPC client), ``transport``
(HTTP/1.1 over a socket, so ``http.client`` is never imported), ``rpc`` (the client
interface), ``sse`` (event-stream parsing), ``output`` (tables, detail views, JSON),
``waiting`` (deadlines, backoff, long polls), ``hook`` (``cw hook``: what Claude Code
and Codex run at their hook events), ``hooks`` (``cw hooks install|uninstall``), ``mcp``
(``cw mcp``, ``cw mcp install|uninstall``), ``mcp_relay`` (stdio to the server's
``/mcp``), and one module per command group.
"""
