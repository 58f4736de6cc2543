"""``cw tell AGENT TEXT``: the person tells an agent something (``agent.tell``).

An agent that is working reads it at its next hook (after its current tool call, at its
next prompt, or before it stops); one crosswalk ran whose run has ended is resumed with
it as the prompt; one registered by hand and not working gets it when its session next
runs a hook. The output says which happened.
"""

from __future__ import annotations

from crosswalk.cli.commands import add_command
from crosswalk.cli.errors import EXIT_OK

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def register(subparsers: Subparsers) -> None:
    tell = add_command(
        subparsers,
        "tell",
        help="tell an agent something, as the person (admin)",
        description=(
            "Send the agent a message from you, the person coordinating the work.\n"
            "A working agent (running, waiting for input) reads it at its next hook:\n"
            "after its current tool call, at its next prompt, or before it stops.\n"
            "An agent crosswalk ran whose run has ended (idle, stopped, crashed) is\n"
            "resumed in its session with the message as the prompt. An agent registered\n"
            "by hand that is not working gets it at its next hook, whenever its session\n"
            "runs again. Either way the message is kept: cw message list --to AGENT.\n"
            "Admin only."
        ),
        examples=[
            'cw tell bold-otter "Use port 8080, not 80."',
            "cw tell bold-otter - < review-notes.md",
            'cw tell bold-otter "Also update the changelog." --json',
        ],
        handler=cmd_tell,
    )
    tell.add_argument("agent", metavar="AGENT", help="the agent's name or id")
    tell.add_argument("text", metavar="TEXT|-", help="what to tell it; - reads it from stdin")


def cmd_tell(args: argparse.Namespace, ctx: Context) -> int:
    text = ctx.read_text(args.text, "message")
    told = ctx.client.mutation("agent.tell", {"id": args.agent, "message": text})
    ctx.emit(told, render_told)
    return EXIT_OK


def render_told(told: Any) -> str:
    """What happened to the message, in the agent's terms."""
    agent = told.get("agent") or {}
    name, status = agent.get("name"), agent.get("status")
    kept = f"message {(told.get('message') or {}).get('id')}"
    if told.get("delivery") == "resumed":
        return (
            f"resumed agent {name} in its session with your message as the prompt ({kept}); "
            f"follow it with: cw logs show {name} --follow"
        )
    if told.get("delivery") == "next_hook":
        return (
            f"agent {name} is {status}: it reads your message at its next hook, after its "
            f"current tool call or before it stops ({kept})"
        )
    return (
        f"agent {name} is {status} and not run by crosswalk, so it cannot be resumed: "
        f"your message is stored and handed to it at its next hook, when its session "
        f"runs again ({kept})"
    )
