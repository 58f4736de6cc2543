"""``cw who PATH``: the agents whose work changed a file, the most recent change first."""

from __future__ import annotations

from crosswalk.cli.commands import add_command
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, command_arg, table
from crosswalk.cli.repo_paths import file_and_line, repo_relative

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def _lines(owner: Any) -> str:
    ranges = owner.get("lines") or []
    if not ranges:
        return "whole file"
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in ranges)


_COLUMNS = (
    Column("agentName", "AGENT"),
    Column(lambda o: o.get("taskName") or o.get("taskId") or "", "TASK", max_width=40),
    Column("status", "STATUS"),
    Column(lambda o: "merged" if o.get("merged") else "unmerged", "WORK"),
    Column(_lines, "LINES", max_width=30),
    Column("changedAt", "CHANGED"),
)


def register(subparsers: Subparsers) -> None:
    """Add ``cw who`` to ``cw``."""
    who = add_command(
        subparsers,
        "who",
        help="list the agents whose work changed a file",
        description=(
            "List the agents whose work changed PATH: unmerged work (on an agent's branch\n"
            "or in its worktree) and merged tasks, the most recent change first, with\n"
            "their task and status and the lines each change covers. PATH is relative to\n"
            "the current directory inside a worktree, else to the repository root. An\n"
            "agent sees its own initiative; the administrator every initiative, or one\n"
            "with --initiative. Ask one of them with: cw ask --file PATH[:LINE]."
        ),
        examples=[
            "cw who src/auth/token.py",
            "cw who src/auth/token.py --json",
            "cw who README.md --initiative auth-rewrite",
        ],
        handler=cmd_who,
    )
    who.add_argument("path", metavar="PATH", help="the file (a :LINE suffix is ignored)")
    who.add_argument("--initiative", metavar="ID", help="only this initiative's agents")


def cmd_who(args: argparse.Namespace, ctx: Context) -> int:
    path, _line = file_and_line(args.path)
    payload: dict[str, Any] = {"path": repo_relative(path)}
    if args.initiative is not None:
        payload["initiativeId"] = args.initiative
    found = ctx.client.query("file.owners", payload)
    ctx.emit(found, _render)
    return EXIT_OK


def _render(found: Any) -> str:
    path = str(found.get("path"))
    owners = found.get("owners") or []
    if not owners:
        return f"no agent's work changed {path}"
    return (
        f"{path}:\n{table(owners, _COLUMNS)}\n"
        f"ask with: cw ask --file {command_arg(path)} QUESTION (or --agent NAME)"
    )
