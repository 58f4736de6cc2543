"""``cw server``: the servers of a deployment (several ``cw serve`` on one PostgreSQL)."""

from __future__ import annotations

from crosswalk.cli.commands import add_command, add_group
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, table

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

_COLUMNS = (
    Column("id", "SERVER"),
    Column(lambda s: "worker" if s.get("worker") else "full", "KIND"),
    Column("capacity", "CAPACITY"),
    Column("load", "LOAD"),
    Column("heartbeatAt", "LAST HEARTBEAT"),
    Column(lambda s: "live" if s.get("live") else "dead", "STATE"),
    Column("url", "URL"),
)


def register(subparsers: Subparsers) -> None:
    """Add ``cw server`` and its subcommands."""
    group = add_group(
        subparsers,
        "server",
        help="list the servers of a deployment",
        description=(
            "Several 'cw serve' processes on one PostgreSQL database share the agents:\n"
            "dispatch places each new agent on the least loaded live server with room.\n"
            "See docs/deploy.md."
        ),
        examples=["cw server list", "cw server list --json"],
    )
    add_command(
        group,
        "list",
        help="servers with their capacity, load and last heartbeat",
        description=(
            "Every server that reported: its capacity (CW_MAX_AGENTS), its load (agents it\n"
            "runs, plus agents placed on it and not started yet), its last heartbeat, and\n"
            "whether it is live. A server whose heartbeat is older than CW_SERVER_LEASE_S\n"
            "is dead: the tasks of its running agents went back to dispatch. Needs the\n"
            "admin token."
        ),
        examples=["cw server list", "cw server list --json"],
        handler=cmd_list,
    )


def render_servers(result: Any) -> str:
    servers = result.get("servers") or []
    if not servers:
        return "no server has reported yet"
    return table(servers, _COLUMNS)


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("server.list", None), render_servers)
    return EXIT_OK
