"""``cw task diff|reject``: review what a task's agent changed, and send it back.

``diff`` shows the task's changes against its initiative branch (from the merge base:
the agent's commits and what is uncommitted or untracked in its worktree); ``reject``
sends a task waiting for approval back to its agent with a comment, which the agent
gets as its next prompt. ``cw task approve`` merges.
"""

from __future__ import annotations

from crosswalk.cli._crud import read_source
from crosswalk.cli._planning import label
from crosswalk.cli.commands import add_command, ref_argument
from crosswalk.cli.errors import EXIT_OK, UsageError
from crosswalk.cli.output import command_arg

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

#: Where each kind of diff comes from, in words.
_SOURCES = {
    "worktree": "its worktree, uncommitted and untracked files included",
    "branch": "its branch (the worktree was cleaned)",
    "merged": "its merge commit",
}


def register_review(group: Subparsers) -> None:
    diff = add_command(
        group,
        "diff",
        help="show what a task's agent changed",
        description=(
            "Show the task's changes against its initiative branch, from their merge\n"
            "base: the agent's commits and, while its worktree exists, everything\n"
            "uncommitted or untracked in it (what approving would merge). A completed\n"
            "task shows what its merge brought in. One section per project of the\n"
            "initiative. --stat lists the files with their added and deleted lines.\n"
            "A patch longer than 512 KB is cut, saying so on stderr (and in --json)."
        ),
        examples=[
            "cw task diff T42",
            "cw task diff T42 --stat",
            "cw task diff T42 --json | jq '.projects[].files[].path'",
        ],
        handler=cmd_diff,
    )
    ref_argument(diff, "id", metavar="TASK", help="the task", kind="task")
    diff.add_argument(
        "--stat", action="store_true", help="only the changed files and their line counts"
    )

    reject = add_command(
        group,
        "reject",
        help="send a task waiting for approval back to its agent, with a comment",
        description=(
            "Request changes: a pending_approval task goes back to in_progress and its\n"
            "agent runs again in its session with COMMENT as the prompt. When that run\n"
            "succeeds the task waits for approval again, with the new diff (cw task\n"
            "diff). Refused for a task in any other status, or whose agent cannot be\n"
            "resumed (its worktree cleaned): the task then stays pending_approval.\n"
            "Admin only."
        ),
        examples=[
            'cw task reject T42 "Validate the email address before saving"',
            "cw task reject T42 --comment-file review.md",
        ],
        handler=cmd_reject,
    )
    ref_argument(reject, "id", metavar="TASK", help="the task", kind="task")
    reject.add_argument("comment", metavar="COMMENT", nargs="?", help="what to change")
    reject.add_argument(
        "--comment-file", metavar="PATH|-", help="read the comment from a file (- stdin)"
    )


def cmd_diff(args: argparse.Namespace, ctx: Context) -> int:
    found = ctx.client.query("task.diff", {"id": args.id, "patch": not args.stat})
    if ctx.json:
        ctx.emit(found, str)
        return EXIT_OK
    ctx.out(render_stat(found) if args.stat else render_patch(found))
    for project in found.get("projects") or []:
        if project.get("error"):
            ctx.err(f"project {project.get('project')}: {project['error']}")
        if project.get("truncation"):
            ctx.err(f"project {project.get('project')}: {project['truncation']}")
    return EXIT_OK


def render_patch(found: Any) -> str:
    if found.get("agent") is None:
        return _no_agent(found)
    projects = found.get("projects") or []
    parts = []
    for project in projects:
        patch = "".join(f.get("patch") or "" for f in project.get("files") or [])
        if len(projects) > 1:
            parts.append(f"# project {project.get('project')}: {_where(project)}\n")
        parts.append(patch)
    text = "".join(parts).rstrip("\n")
    return text or f"no changes: {_where_all(found)}"


def render_stat(found: Any) -> str:
    if found.get("agent") is None:
        return _no_agent(found)
    lines = []
    for project in found.get("projects") or []:
        lines.append(f"project {project.get('project')}: {_where(project)}")
        files = project.get("files") or []
        width = max((len(f.get("status", "")) for f in files), default=0)
        for change in files:
            path = str(change.get("path"))
            if change.get("oldPath"):
                path = f"{change['oldPath']} -> {path}"
            counts = (
                "binary"
                if change.get("binary")
                else f"+{change.get('additions')} -{change.get('deletions')}"
            )
            lines.append(f"  {change.get('status', ''):<{width}}  {path}  {counts}")
        if not files and not project.get("error"):
            lines.append("  no changes")
    count = found.get("files", 0)
    lines.append(
        f"{count} file{'s' if count != 1 else ''} changed, "
        f"+{found.get('additions', 0)} -{found.get('deletions', 0)}"
    )
    return "\n".join(lines)


def _no_agent(found: Any) -> str:
    name = {"name": found.get("taskName"), "id": found.get("taskId")}
    return f"task {label(name)} has no agent yet: nothing has changed"


def _where(project: Any) -> str:
    if project.get("error"):
        return "no diff (see below)"
    source = _SOURCES.get(str(project.get("source")), str(project.get("source")))
    return f"{project.get('agentBranch')} against {project.get('initiativeBranch')}, from {source}"


def _where_all(found: Any) -> str:
    agent = found.get("agent") or {}
    return (
        f"agent {agent.get('name')} changed nothing on task "
        f"{label({'name': found.get('taskName'), 'id': found.get('taskId')})}"
    )


def cmd_reject(args: argparse.Namespace, ctx: Context) -> int:
    if (args.comment is None) == (args.comment_file is None):
        raise UsageError("give the comment as COMMENT or with --comment-file (one of them)")
    comment = args.comment
    if args.comment_file is not None:
        comment = read_source(ctx, args.comment_file, "comment")
    if not comment.strip():
        raise UsageError("the comment is empty: say what the agent should change")
    task = ctx.client.mutation("task.reject", {"id": args.id, "comment": comment.strip()})
    ctx.emit(
        task,
        lambda t: (
            f"sent task {label(t)} back to its agent: now {t.get('status')}; "
            f"its new work will wait for: cw task approve {command_arg(str(t.get('id')))}"
        ),
    )
    return EXIT_OK
