"""``cw mcp``: crosswalk's MCP tools over stdio, and ``cw mcp install|uninstall``.

The MCP server runs inside the crosswalk server (``/mcp``, on the ``mcp`` SDK); ``cw
mcp`` relays a stdio client to it (``mcp_relay``, standard library only) as the agent
in ``CW_AGENT_ID``/``CW_TOKEN``/``CW_URL``, else the worktree's identity file. The
``.mcp.json`` entry is ``crosswalk.agent_mcp``'s business; docs/mcp.md has the rest.
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
        help="relay an agent's MCP client (stdio) to crosswalk's tools",
        description=(
            "Relay MCP on stdin/stdout to the crosswalk server's MCP endpoint (/mcp beside\n"
            "CW_URL), for an agent CLI that starts stdio servers: the tools ask (a peer or\n"
            "the person, and wait for the answer), pending, answer, wait and whoami act as\n"
            "the agent in CW_AGENT_ID/CW_TOKEN/CW_URL (else the worktree's\n"
            ".crosswalk/agent.json). crosswalk's runner gives the agents it starts the\n"
            "HTTP endpoint itself; 'cw mcp install' writes an entry into a worktree's\n"
            ".mcp.json for a Claude Code started by hand. See docs/mcp.md."
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
    import os

    from crosswalk.agent_mcp import mcp_url
    from crosswalk.cli.hook import find_worktree, read_identity
    from crosswalk.cli.mcp_relay import Relay

    env = ctx.runtime.env
    here = os.getcwd()  # noqa: PTH109 (pathlib would cost cw mcp start-up time)
    identity = read_identity(env, find_worktree(here))
    token = identity.token if identity is not None else env.get("CW_TOKEN")
    trpc_url = env.get("CW_URL") or (identity.url if identity is not None else ctx.url)
    relay = Relay(mcp_url(trpc_url), token, ctx.stdout, trpc_url=trpc_url)
    relay.run(ctx.stdin)
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
