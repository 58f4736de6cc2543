"""``cw initiative run|pause|status|push``: the server dispatches an initiative's work.

``run`` turns dispatch on: every ready task gets an agent (never more than
``--max-agents`` at once), checkpoint tasks go to the person, finished work is
merged (after ``cw task approve`` where approval is required). ``status`` shows
the tasks by state, what each one waits for and what it cost. ``push`` sends the
merged work (the initiative branch) to the projects' own repositories.
"""

from __future__ import annotations

from crosswalk.cli._crud import given
from crosswalk.cli._planning import label
from crosswalk.cli.commands import add_command, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import indent

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

#: The order ``cw initiative status`` shows the task states in.
STATE_ORDER = ("in_progress", "blocked", "pending_approval", "pending", "completed")


def register_dispatch(group: Subparsers) -> None:
    run = add_command(
        group,
        "run",
        help="let the server dispatch the initiative's ready tasks to agents",
        description=(
            "Turn dispatch on: the server starts an agent for every ready task\n"
            "(dependencies and phase dependencies completed), highest priority first,\n"
            "never more than --max-agents of this initiative at once, and goes on as\n"
            "tasks complete, until paused or until every task is completed. Checkpoint\n"
            "tasks are asked of the person (cw inbox) instead. The initiative needs a\n"
            "project to work in (cw project link INITIATIVE PROJECT). Admin only."
        ),
        examples=[
            "cw initiative run I7",
            "cw initiative run I7 --max-agents 4 --provider codex",
        ],
        handler=cmd_run,
    )
    ref_argument(run, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")
    run.add_argument(
        "--max-agents", type=positive_int, default=2, metavar="N", help="at most N agents (2)"
    )
    run.add_argument("--provider", metavar="P", help="claude or codex (the server's default)")

    pause = add_command(
        group,
        "pause",
        help="stop dispatching new tasks (running agents go on)",
        description="Turn dispatch off for the initiative; agents already running go on.",
        examples=["cw initiative pause I7"],
        handler=cmd_pause,
    )
    ref_argument(pause, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")

    status = add_command(
        group,
        "status",
        help="show the initiative's tasks by state and what each waits for",
        description=(
            "Show the initiative's dispatch, its tasks by state with what each waiting\n"
            "task waits for, its running agents, and its open questions."
        ),
        examples=["cw initiative status I7", "cw initiative status I7 --json"],
        handler=cmd_status,
    )
    ref_argument(status, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")

    push = add_command(
        group,
        "push",
        help="push the initiative branch to each linked project's repository",
        description=(
            "Push the initiative branch (where the server merged the tasks' work) from\n"
            "the server's clone of each linked project to that project's URL, under the\n"
            "same name. Never forced: a remote branch that has diverged (commits the\n"
            "server's branch lacks) is refused, naming it, and the others still go.\n"
            "--auto-push on create or update pushes after every merge. Admin only."
        ),
        examples=["cw initiative push I7", "cw initiative push I7 --project api"],
        handler=cmd_push,
    )
    ref_argument(push, "id", metavar="INITIATIVE", help="the initiative", kind="initiative")
    push.add_argument("--project", metavar="P", help="only this project (its id or name)")


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    payload = {"id": args.id, **given(maxAgents=args.max_agents, provider=args.provider)}
    initiative = ctx.client.mutation("initiative.run", payload)
    ctx.emit(
        initiative,
        lambda i: (
            f"dispatching initiative {label(i)}: at most {i.get('dispatchMaxAgents')} agents; "
            f"follow with: cw initiative status {i.get('id')}"
        ),
    )
    return EXIT_OK


def cmd_pause(args: argparse.Namespace, ctx: Context) -> int:
    initiative = ctx.client.mutation("initiative.pause", {"id": args.id})
    ctx.emit(initiative, lambda i: f"paused dispatch of initiative {label(i)}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    ctx.emit(ctx.client.query("initiative.status", {"id": args.id}), render_status)
    return EXIT_OK


def cmd_push(args: argparse.Namespace, ctx: Context) -> int:
    payload = {"id": args.id, **given(project=args.project)}
    done = ctx.client.mutation("initiative.push", payload)
    ctx.emit(done, lambda d: "\n".join(str(p.get("message")) for p in d.get("pushed") or []))
    return EXIT_OK


def render_status(status: Any) -> str:
    dispatch = status.get("dispatch") or {}
    limit = dispatch.get("maxAgents")
    lines = [
        f"initiative {status.get('name')} ({status.get('id')}) on {status.get('branch')}",
        f"dispatch: {dispatch.get('status')}" + (f", at most {limit} agents" if limit else ""),
        f"spent: {usage_text(status.get('usage'))}",
    ]
    tasks = status.get("tasks") or {}
    for state in STATE_ORDER:
        found = tasks.get(state) or []
        if not found:
            continue
        lines.append(f"{state} ({len(found)}):")
        for task in found:
            agent = f" [{task['agent']}]" if task.get("agent") else ""
            waiting = f": waits for {task['waitingFor']}" if task.get("waitingFor") else ""
            spent = (task.get("usage") or {}).get("runs")
            cost = f" ({usage_text(task.get('usage'), short=True)})" if spent else ""
            lines.append(f"  {task.get('id')}  {task.get('name')}{agent}{cost}{waiting}")
    agents = status.get("runningAgents") or []
    lines.append(f"running agents ({len(agents)}):")
    lines += [
        f"  {a.get('name')} ({a.get('id')})"
        + (f" on task {a['taskId']}" if a.get("taskId") else "")
        for a in agents
    ]
    pushes = status.get("pushes") or []
    auto = " (after every merge)" if status.get("autoPush") else ""
    lines.append(f"pushed to{auto}:" if pushes else "pushed to: no project linked")
    for push in pushes:
        commit = push.get("pushedCommit")
        when = f"{str(commit)[:12]} at {push.get('pushedAt')}" if commit else "never"
        failed = f"; last push failed: {push['pushError']}" if push.get("pushError") else ""
        lines.append(f"  {push.get('project')} ({push.get('url')}): {when}{failed}")
    questions = status.get("openQuestions") or []
    lines.append(f"open questions ({len(questions)}):")
    for question in questions:
        lines.append(f"  {question.get('kind')} {question.get('id')}:")
        lines.append(indent(str(question.get("question", "")), "    "))
    overlaps = status.get("overlaps") or []
    if overlaps:
        lines.append(f"files changed by several agents' unmerged work ({len(overlaps)}):")
        for overlap in overlaps:
            names = overlap.get("agentNames") or overlap.get("agents") or []
            lines.append(f"  {overlap.get('file')}: {', '.join(map(str, names))}")
    previews = status.get("mergePreview") or []
    if previews:
        lines.append(f"would their work merge cleanly ({len(previews)} pairs, by git merge-tree):")
        for preview in previews:
            pair = " + ".join(map(str, preview.get("agentNames") or preview.get("agents") or []))
            files = preview.get("files") or []
            verdict = (
                f"conflicts in {', '.join(map(str, files))}"
                if preview.get("conflicts")
                else "clean"
            )
            lines.append(f"  {pair}: {verdict}")
    return "\n".join(lines)


def usage_text(usage: Any, *, short: bool = False) -> str:
    """``$1.25, 14 turns, 6 min over 3 runs; tokens 12.0k in, 3.4k out, 80.1k cache``
    (the cost is "cost unknown" when no run reported one, as Codex does not)."""
    if not usage or not usage.get("runs"):
        return "nothing yet (no agent has run)"
    cost = usage.get("costUsd")
    money = "cost unknown" if cost is None else f"${cost:,.2f}"
    runs = usage["runs"]
    text = f"{money}, {usage.get('turns', 0)} turns, {_minutes(usage.get('runSeconds', 0))}"
    if short:
        return text
    text += f" over {runs} run{'s' if runs != 1 else ''}"
    cache = usage.get("cacheReadTokens", 0) + usage.get("cacheCreationTokens", 0)
    return (
        f"{text}; tokens {_thousands(usage.get('inputTokens', 0))} in, "
        f"{_thousands(usage.get('outputTokens', 0))} out, {_thousands(cache)} cache"
    )


def _minutes(seconds: int) -> str:
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min"


def _thousands(count: int) -> str:
    return str(count) if count < 1000 else f"{count / 1000:.1f}k"
