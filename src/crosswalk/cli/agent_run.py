"""``cw agent spawn|stop|resume|clean``: crosswalk runs the agents itself.

``spawn`` makes worktrees for a task and starts the provider's CLI in them; ``stop``
ends an agent's process group; ``resume`` runs it again in its session; ``clean``
removes worktrees of agents that no longer run. ``docs/runner.md`` has the lifecycle.
"""

from __future__ import annotations

from crosswalk.cli._crud import given
from crosswalk.cli.commands import add_command, ref_argument
from crosswalk.cli.errors import EXIT_OK

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

PROVIDERS = ("claude", "codex")
MODES = ("execute", "discuss", "plan", "detail", "refine")


def register_run_commands(group: Subparsers) -> None:
    spawn = add_command(
        group,
        "spawn",
        help="start an agent on a task, in new worktrees",
        description=(
            "Create an agent for the task and start its CLI (claude by default) in new git\n"
            "worktrees: one per project of the task's initiative, on a new branch\n"
            "<initiative branch>--<agent name>. It gets the next available account of its\n"
            "provider unless --account names one, and CW_URL, CW_AGENT_ID and CW_TOKEN in\n"
            "its environment. Prints the agent. Admin only."
        ),
        examples=[
            "cw agent spawn --task T42",
            "cw agent spawn --task T42 --provider codex --mode plan",
            'cw agent spawn --task T42 --prompt "start with the tests" --json',
        ],
        handler=cmd_spawn,
    )
    ref_argument(
        spawn, "--task", required=True, metavar="TASK", help="the task to work on", kind="task"
    )
    spawn.add_argument("--provider", choices=PROVIDERS, help="the agent CLI (default claude)")
    spawn.add_argument("--account", metavar="ACCOUNT_ID", help="the account to run it on")
    spawn.add_argument("--mode", choices=MODES, help="what the agent does (default execute)")
    spawn.add_argument("--prompt", metavar="TEXT", help="more instructions, after the task")

    stop = add_command(
        group,
        "stop",
        help="stop a running agent",
        description=(
            "Send SIGTERM to the agent's process group, then SIGKILL if it has not ended\n"
            "after a grace period. The agent ends 'stopped'; its worktree stays (see\n"
            "'cw agent clean'). Admin only."
        ),
        examples=["cw agent stop bold-otter", "cw agent stop a1B2c3 --json"],
        handler=cmd_stop,
    )
    stop.add_argument("agent", metavar="AGENT", help="the agent's id or name")

    resume = add_command(
        group,
        "resume",
        help="run an agent again in its session",
        description=(
            "Run the agent's CLI again with --resume and its stored session, in its\n"
            "worktree, with MESSAGE as the prompt (default: carry on). Its log gets the\n"
            "next session number. Admin only."
        ),
        examples=[
            "cw agent resume bold-otter",
            'cw agent resume bold-otter "the API changed: use v2"',
        ],
        handler=cmd_resume,
    )
    resume.add_argument("agent", metavar="AGENT", help="the agent's id or name")
    resume.add_argument("message", nargs="?", metavar="MESSAGE", help="the prompt to resume with")

    clean = add_command(
        group,
        "clean",
        help="remove the worktrees of agents that no longer run",
        description=(
            "Remove worktrees (and prune them from git): AGENT's, which must not be\n"
            "running, or without AGENT those of every stopped or crashed agent and of\n"
            "deleted agents. An idle agent's worktree is kept, because crosswalk resumes\n"
            "the agent there to answer questions; --idle removes it too. Branches stay\n"
            "unless --delete-branch. Admin only."
        ),
        examples=[
            "cw agent clean",
            "cw agent clean bold-otter --delete-branch",
            "cw agent clean --idle   # idle agents' worktrees too",
        ],
        handler=cmd_clean,
    )
    clean.add_argument("agent", nargs="?", metavar="AGENT", help="the agent's id or name")
    clean.add_argument(
        "--delete-branch", action="store_true", help="delete the agents' branches too"
    )
    clean.add_argument(
        "--idle",
        action="store_true",
        help="remove idle agents' worktrees too (they can no longer be resumed to answer)",
    )


def _describe(agent: Any) -> str:
    line = f"agent {agent.get('name')} ({agent.get('id')}) is {agent.get('status')}"
    if agent.get("pid") is not None and agent.get("status") == "running":
        line += f", pid {agent.get('pid')}"
    if agent.get("worktreeId"):
        line += f"\nworktree: {agent.get('worktreeId')}"
    return line


def cmd_spawn(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(
        taskId=args.task,
        provider=args.provider,
        accountId=args.account,
        mode=args.mode,
        prompt=args.prompt,
    )
    ctx.emit(ctx.client.mutation("agent.spawn", payload), _describe)
    return EXIT_OK


def cmd_stop(args: argparse.Namespace, ctx: Context) -> int:
    agent = ctx.client.mutation("agent.stop", {"id": args.agent})
    ctx.emit(agent, _describe)
    return EXIT_OK


def cmd_resume(args: argparse.Namespace, ctx: Context) -> int:
    agent = ctx.client.mutation("agent.resume", given(id=args.agent, message=args.message))
    ctx.emit(agent, _describe)
    return EXIT_OK


def cmd_clean(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = given(id=args.agent)
    if args.delete_branch:
        payload["deleteBranch"] = True
    if args.idle:
        payload["idle"] = True
    ctx.emit(ctx.client.mutation("agent.clean", payload), _render_cleaned)
    return EXIT_OK


def _render_cleaned(result: Any) -> str:
    cleaned = result.get("cleaned", []) if isinstance(result, dict) else []
    if not cleaned:
        return "no worktrees to remove"
    lines = []
    for entry in cleaned:
        who = entry.get("agentName") or f"deleted agent {entry.get('agentId')}"
        worktrees = entry.get("worktrees") or []
        lines.append(f"{who}: removed {len(worktrees)} worktree(s)")
        lines += [f"  {path}" for path in worktrees]
    return "\n".join(lines)
