"""``cw hooks install|uninstall`` and ``cw hook``: wiring an agent CLI's hooks to crosswalk.

The configuration files themselves are ``crosswalk.agent_hooks``'s business (code such
as crosswalk's runner calls ``install_hooks`` there directly); these are the commands a
person runs, and the argparse entry of ``cw hook`` (which ``main`` usually bypasses).
docs/hooks.md has the details.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from crosswalk.agent_hooks import (
    CONFIG_FILES,
    IDENTITY_FILE,
    PROVIDERS,
    STATE_DIR,
    HookConfigError,
    has_hooks,
    install_hooks,
    uninstall_hooks,
    write_identity,
)
from crosswalk.agent_mcp import has_mcp
from crosswalk.cli.commands import add_command, add_group
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.hook import EVENTS, run_hook

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def worktree_of(args: argparse.Namespace) -> Path:
    """``--worktree``, else the git top level of the current directory, else it."""
    if args.worktree:
        given = Path(args.worktree)
        if not given.is_dir():
            raise UsageError(f"--worktree {args.worktree}: no such directory")
        return given.absolute()
    top = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    found = str(top.stdout).strip()
    return Path(found) if top.returncode == 0 and found else Path.cwd()


# -- commands ---------------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw hook`` and ``cw hooks`` to ``cw``."""
    hook = add_command(
        subparsers,
        "hook",
        help="run by Claude Code or Codex at a hook event (not by hand)",
        description=(
            "What the agent CLI runs at its hook events, with the event's JSON on stdin:\n"
            "it prints the questions (and --no-wait answers) for this agent that the\n"
            "session has not seen, and keeps a Stop from ending the session while\n"
            "questions wait. It never fails the agent: whatever goes wrong, it prints\n"
            "nothing, exits 0 and notes why in .crosswalk/hook.log. See docs/hooks.md."
        ),
        examples=[
            'echo \'{"session_id":"s1"}\' | cw hook claude PostToolUse',
            "cw hook codex Stop < event.json",
        ],
        handler=cmd_hook,
        client_options=False,
    )
    hook.add_argument("provider", choices=PROVIDERS, help="the agent CLI")
    hook.add_argument("event", choices=tuple(EVENTS), help="the hook event")

    hooks = add_group(
        subparsers,
        "hooks",
        help="install or remove the cw hooks in a worktree",
        description=(
            "Wire Claude Code's or Codex's hooks in a worktree to crosswalk, so questions\n"
            "reach a busy agent after its next tool call. See docs/hooks.md."
        ),
        examples=["cw hooks install", "cw hooks uninstall --provider codex"],
    )
    install = add_command(
        hooks,
        "install",
        help="write the hook configuration into a worktree",
        description=(
            "Merge 'cw hook' entries into .claude/settings.local.json (Codex:\n"
            ".codex/hooks.json) of the worktree, keeping other entries and never\n"
            "duplicating its own, and exclude the files from git. The hook acts as the\n"
            "agent in CW_AGENT_ID/CW_TOKEN/CW_URL of the agent CLI's environment; with\n"
            "--agent it also writes a private identity file (.crosswalk/agent.json,\n"
            "0600) for an agent CLI started without those variables: with the token of\n"
            "this shell when CW_AGENT_ID names that agent, else (as the administrator)\n"
            "with a newly issued one, which ends the previous token."
        ),
        examples=[
            "cw hooks install",
            "cw hooks install --worktree ../wt-tokens --agent brave-otter",
            "cw hooks install --provider codex",
        ],
        handler=cmd_install,
    )
    uninstall = add_command(
        hooks,
        "uninstall",
        help="remove the cw hook entries from a worktree",
        description=(
            "Remove exactly the entries 'cw hooks install' wrote; other hooks stay.\n"
            "The identity file, if any, goes with the last provider's hooks."
        ),
        examples=["cw hooks uninstall", "cw hooks uninstall --worktree ../wt-tokens"],
        handler=cmd_uninstall,
    )
    for parser in (install, uninstall):
        parser.add_argument(
            "--worktree", metavar="DIR", help="the worktree (default: the git top level here)"
        )
        parser.add_argument(
            "--provider", choices=PROVIDERS, default="claude", help="the agent CLI (default claude)"
        )
    install.add_argument(
        "--agent", metavar="ID_OR_NAME", help="write an identity file for this agent"
    )


def cmd_hook(args: argparse.Namespace, ctx: Context) -> int:
    return run_hook(args.provider, args.event, stdin=ctx.stdin, stdout=ctx.stdout)


def cmd_install(args: argparse.Namespace, ctx: Context) -> int:
    worktree = worktree_of(args)
    try:
        path = install_hooks(worktree, args.provider)
    except HookConfigError as exc:
        raise UsageError(str(exc)) from None
    ctx.out(f"installed the cw hooks in {path}")
    if args.agent:
        install_identity(args, ctx, worktree)
    return EXIT_OK


def install_identity(args: argparse.Namespace, ctx: Context, worktree: Path) -> None:
    """Write ``.crosswalk/agent.json`` for ``--agent``: with this shell's token when it is
    that agent's, else (as the administrator) with a newly issued one."""
    agent = ctx.client.query("agent.get", {"id": args.agent})
    own_token = getattr(args, "token", None) or ctx.runtime.env.get("CW_TOKEN")
    if own_token and ctx.agent_id in (agent["id"], agent.get("name")):
        token, note = own_token, "with the token of this shell"
    else:
        issued = ctx.client.mutation("agent.rotateToken", {"id": agent["id"]})
        token, note = (
            str(issued["token"]),
            "with a new token (the previous one stopped working)",
        )
    identity = write_identity(worktree, str(agent["id"]), token, ctx.url)
    ctx.out(f"wrote {identity} for agent {agent.get('name')} ({agent['id']}) {note}")


def cmd_uninstall(args: argparse.Namespace, ctx: Context) -> int:
    worktree = worktree_of(args)
    try:
        removed = uninstall_hooks(worktree, args.provider)
    except HookConfigError as exc:
        raise UsageError(str(exc)) from None
    path = worktree / CONFIG_FILES[args.provider]
    ctx.out(f"removed the cw hooks from {path}" if removed else f"no cw hooks in {path}")
    remove_unused_identity(ctx, worktree)
    return EXIT_OK


def remove_unused_identity(ctx: Context, worktree: Path) -> None:
    """The identity file goes once neither hooks nor the MCP server are left to use it."""
    identity = worktree / STATE_DIR / IDENTITY_FILE
    in_use = has_mcp(worktree) or any(has_hooks(worktree, p) for p in PROVIDERS)
    if identity.exists() and not in_use:
        identity.unlink()
        ctx.out(f"removed {identity}")
