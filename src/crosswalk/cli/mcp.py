"""``cw mcp``: crosswalk's MCP server over stdio, and ``cw mcp install|uninstall``.

The server is built on the ``mcp`` SDK, which is not standard library: it is imported
inside ``cmd_serve`` only (``crosswalk.mcp_server``), so no other ``cw`` command loads it.
The ``.mcp.json`` entry is ``crosswalk.agent_mcp``'s business; docs/mcp.md has the rest.
"""

from __future__ import annotations

from crosswalk.agent_mcp import (
    PROJECT_FILE,
    SETTINGS_FILE,
    McpConfigError,
    install_mcp,
    uninstall_mcp,
)
from crosswalk.cli.commands import add_command
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.hooks import install_identity, remove_unused_identity, worktree_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def register(subparsers: Subparsers) -> None:
    """Add ``cw mcp`` (and its ``install`` and ``uninstall``) to ``cw``."""
    mcp = add_command(
        subparsers,
        "mcp",
        help="serve crosswalk's tools to an agent over MCP (stdio)",
        description=(
            "Run crosswalk's MCP server on stdin/stdout, for an agent CLI to start: the\n"
            "tools ask (a peer or the person, and wait for the answer), pending, answer,\n"
            "wait and whoami act as the agent in CW_AGENT_ID/CW_TOKEN/CW_URL (else the\n"
            "worktree's .crosswalk/agent.json). crosswalk's runner gives the agents it\n"
            "starts this server; 'cw mcp install' writes it into a worktree's .mcp.json\n"
            "for a Claude Code started by hand. See docs/mcp.md."
        ),
        examples=[
            "cw mcp",
            "cw mcp install",
            "cw mcp install --worktree ../wt-tokens --agent brave-otter",
            "codex exec -c 'mcp_servers.crosswalk.command=\"cw\"' \\\n"
            '    -c \'mcp_servers.crosswalk.args=["mcp"]\' "..."',
        ],
        handler=cmd_serve,
        client_options=False,
    )
    commands = mcp.add_subparsers(
        title="commands", metavar="COMMAND", dest="mcp_command", required=False
    )
    install = add_command(
        commands,
        "install",
        help="add the crosswalk server to a worktree's .mcp.json",
        description=(
            f"Merge a 'crosswalk' entry (this cw, 'cw mcp') into {PROJECT_FILE} at the\n"
            "worktree's top level, keeping other servers; approve it and allow its tools\n"
            f"in {SETTINGS_FILE} (so 'claude -p' uses them too); keep both\n"
            "files out of git.\n"
            "The server acts as the agent in the agent CLI's CW_AGENT_ID/CW_TOKEN/CW_URL;\n"
            "with --agent it also writes the private identity file the hooks use\n"
            "(.crosswalk/agent.json, as 'cw hooks install --agent' does)."
        ),
        examples=["cw mcp install", "cw mcp install --worktree ../wt-tokens --agent brave-otter"],
        handler=cmd_install,
    )
    uninstall = add_command(
        commands,
        "uninstall",
        help="remove the crosswalk server from a worktree's .mcp.json",
        description=(
            f"Remove what 'cw mcp install' added to {PROJECT_FILE} and {SETTINGS_FILE};\n"
            "everything else stays, and a file goes when nothing else is left in it. The\n"
            "identity file goes too unless the cw hooks still use it."
        ),
        examples=["cw mcp uninstall", "cw mcp uninstall --worktree ../wt-tokens"],
        handler=cmd_uninstall,
    )
    for parser in (install, uninstall):
        parser.add_argument(
            "--worktree", metavar="DIR", help="the worktree (default: the git top level here)"
        )
    install.add_argument(
        "--agent", metavar="ID_OR_NAME", help="write an identity file for this agent"
    )


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    try:
        from crosswalk.mcp_server.server import serve
    except ImportError as exc:
        raise UsageError(
            f"cw mcp needs the mcp package ({exc}); install crosswalk with its dependencies "
            "(pip install crosswalk) in the environment of this cw"
        ) from None
    from crosswalk.mcp_server.tools import AgentTools

    serve(AgentTools(ctx.runtime.env))
    return EXIT_OK


def cmd_install(args: argparse.Namespace, ctx: Context) -> int:
    worktree = worktree_of(args)
    try:
        path = install_mcp(worktree)
    except McpConfigError as exc:
        raise UsageError(str(exc)) from None
    ctx.out(f"added the crosswalk MCP server to {path}")
    if args.agent:
        install_identity(args, ctx, worktree)
    return EXIT_OK


def cmd_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    worktree = worktree_of(args)
    try:
        removed = uninstall_mcp(worktree)
    except McpConfigError as exc:
        raise UsageError(str(exc)) from None
    path = worktree / PROJECT_FILE
    ctx.out(f"removed the crosswalk MCP server from {path}" if removed else f"none in {path}")
    remove_unused_identity(ctx, worktree)
    return EXIT_OK
