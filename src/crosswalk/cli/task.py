"""``cw task``: the work itself, what it waits for, its approval, and what is ready.

``cw task ready`` is what a coordinator (or an idle agent) asks to find work: pending
tasks whose dependencies (and their phase's dependencies) are all completed, highest
priority first. Approval gates the merge: a task whose approval is required (its own
flag, else its initiative's) waits in ``pending_approval`` once its agent succeeded,
until ``cw task approve`` merges it (``cw task diff`` shows the work, ``cw task
reject`` sends it back to its agent: ``task_review``). ``cw task retry-merge`` merges a
task blocked by a conflict again.
"""

from __future__ import annotations

from crosswalk.cli._crud import clearable, given, send_delete, send_list
from crosswalk.cli._planning import add_dependency_commands, label, send_update
from crosswalk.cli.commands import add_command, add_group, positive_int, ref_argument
from crosswalk.cli.errors import EXIT_OK
from crosswalk.cli.output import Column, command_arg, detail, indent, table
from crosswalk.cli.task_review import register_review

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context

STATUSES = ("pending_approval", "pending", "in_progress", "completed", "blocked")
PRIORITIES = ("low", "medium", "high")
TYPES = ("auto", "checkpoint:human-verify", "checkpoint:decision", "checkpoint:human-action")
CATEGORIES = (
    "execute",
    "research",
    "discuss",
    "plan",
    "detail",
    "refine",
    "verify",
    "merge",
    "review",
)

_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("status", "status"),
    ("priority", "priority"),
    ("order", "order"),
    ("type", "type"),
    ("category", "category"),
    ("initiativeId", "initiative"),
    ("phaseId", "phase"),
    ("parentTaskId", "parent task"),
    ("approval", "approval"),
    ("createdAt", "created"),
    ("updatedAt", "updated"),
)
_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("status", "STATUS"),
    Column("priority", "PRIORITY"),
    Column("order", "ORDER"),
    Column("phaseId", "PHASE"),
)
_SHORT_COLUMNS = (
    Column("id", "ID"),
    Column("name", "NAME", max_width=40),
    Column("status", "STATUS"),
)


def approval_text(task: Any) -> str:
    """Whether the task needs a person's approval, and where that comes from."""
    effective = task.get("requiresApprovalEffective")
    own = task.get("requiresApproval")
    if effective is None:
        return "inherited from the initiative" if own is None else ("required" if own else "none")
    source = "initiative default" if own is None else "set on the task"
    return f"{'required' if effective else 'not required'} ({source})"


def render_task(task: Any, dependencies: list[Any] | None = None) -> str:
    """The detail view of ``cw task show``: fields, what it waits for, description."""
    text = detail({**task, "approval": approval_text(task)}, _FIELDS)
    if dependencies:
        text += "\ndepends on:\n" + indent(table(dependencies, _SHORT_COLUMNS))
    if task.get("description"):
        text += "\ndescription:\n" + indent(str(task["description"]))
    return text


def render_created(task: Any) -> str:
    line = f"created task {label(task)}: {task.get('status')}"
    if task.get("status") == "pending_approval":
        line += f"; it waits for: cw task approve {command_arg(str(task.get('id')))}"
    return line


def render_list(tasks: Any, empty: str) -> str:
    return table(tasks, _COLUMNS) if tasks else empty


# -- registration -----------------------------------------------------------------------


def register(subparsers: Subparsers) -> None:
    """Add ``cw task`` and its subcommands."""
    group = add_group(
        subparsers,
        "task",
        help="plan tasks, order them, approve them, and find ready work",
        description=(
            "Tasks are the work of an initiative, usually in a phase, possibly split into\n"
            "subtasks. A task may wait for others ('cw task dep'); 'cw task ready' lists\n"
            "what can start now. Writes need the admin token; agents may read."
        ),
        examples=[
            'cw task create --phase P1 --priority high "Login form"',
            "cw task ready --initiative I7",
            "cw task diff T42",
            "cw task done T42",
        ],
    )
    _register_crud(group)
    add_dependency_commands(group, "task", ("T2", "T1"))
    _register_workflow(group)
    register_review(group)


def _register_crud(group: Subparsers) -> None:
    create = add_command(
        group,
        "create",
        help="create a task",
        description=(
            "Create a task in a phase, an initiative, or under a parent task (a task in a\n"
            "phase or under a parent takes its initiative). It starts pending unless\n"
            "--status is given. Whether its finished work is merged only after a person's\n"
            "approval is its --requires-approval flag, else its initiative's default."
        ),
        examples=[
            'cw task create --phase P1 "Login form"',
            'cw task create --phase P1 --priority high --no-requires-approval "Fix CI"',
            'cw task create --parent T42 --description-file spec.md "Validate emails"',
            'cw task create --initiative I7 --category research "Pick a hash" --json',
        ],
        handler=cmd_create,
    )
    create.add_argument("name", metavar="NAME", help="the task's name")
    ref_argument(create, "--phase", metavar="PHASE", help="the phase it belongs to", kind="phase")
    ref_argument(
        create,
        "--initiative",
        metavar="INITIATIVE",
        help="its initiative (default: the phase's)",
        kind="initiative",
    )
    ref_argument(
        create, "--parent", metavar="TASK", help="make it a subtask of this task", kind="task"
    )
    _add_fields(create, update=False)

    lst = add_command(
        group,
        "list",
        help="list tasks, oldest first",
        description=(
            "List tasks matching all the given filters, one page at a time.\n"
            "The JSON form is {items, nextCursor}; pass nextCursor to --cursor for more."
        ),
        examples=[
            "cw task list --phase P1",
            "cw task list --initiative I7 --status in_progress",
            "cw task list --parent T42 --json",
        ],
        handler=cmd_list,
    )
    ref_argument(
        lst,
        "--initiative",
        metavar="INITIATIVE",
        help="only tasks of this initiative",
        kind="initiative",
    )
    ref_argument(lst, "--phase", metavar="PHASE", help="only tasks of this phase", kind="phase")
    ref_argument(lst, "--parent", metavar="TASK", help="only subtasks of this task", kind="task")
    lst.add_argument("--status", choices=STATUSES, help="only tasks in this status")
    lst.add_argument("--limit", type=positive_int, metavar="N", help="at most N per page")
    lst.add_argument("--cursor", metavar="CURSOR", help="the page after this cursor")

    show = add_command(
        group,
        "show",
        help="show one task, its approval and what it waits for",
        description=(
            "Show a task: status, priority, where it belongs, whether it needs approval\n"
            "(and why), the tasks it depends on with their status, and its description."
        ),
        examples=["cw task show T42", "cw task show T42 --json"],
        handler=cmd_show,
    )
    ref_argument(show, "id", metavar="TASK", help="the task", kind="task")

    upd = add_command(
        group,
        "update",
        help="change a task",
        description=(
            "Change the fields given; the rest stay. '' clears --description, --phase and\n"
            "--parent; --inherit-approval makes the task follow its initiative's default."
        ),
        examples=[
            "cw task update T42 --status in_progress",
            "cw task update T42 --priority high --order 1",
            "cw task update T42 --phase P2 --parent ''",
            "cw task update T42 --inherit-approval",
        ],
        handler=cmd_update,
    )
    ref_argument(upd, "id", metavar="TASK", help="the task", kind="task")
    upd.add_argument("--name", metavar="NAME", help="a new name")
    ref_argument(
        upd, "--phase", metavar="PHASE", help="move it to this phase ('' for none)", kind="phase"
    )
    ref_argument(
        upd, "--parent", metavar="TASK", help="make it a subtask ('' for none)", kind="task"
    )
    upd.add_argument("--status", choices=STATUSES, help="the task's status")
    _add_fields(upd, update=True)

    delete = add_command(
        group,
        "delete",
        help="delete a task and its subtasks",
        description=(
            "Delete a task. Its subtasks and every dependency on them go with it; agents\n"
            "and conversations about them stay, detached. The output counts each."
        ),
        examples=["cw task delete T42", "cw task delete T42 --json"],
        handler=cmd_delete,
    )
    ref_argument(delete, "id", metavar="TASK", help="the task", kind="task")


def _add_fields(parser: argparse.ArgumentParser, *, update: bool) -> None:
    """The fields ``create`` and ``update`` share."""
    import argparse

    clear = " ('' clears it)" if update else ""
    description = parser.add_mutually_exclusive_group()
    description.add_argument("--description", metavar="TEXT", help=f"what to do{clear}")
    description.add_argument(
        "--description-file", metavar="PATH|-", help="read the description from a file (- stdin)"
    )
    parser.add_argument("--type", choices=TYPES, help="auto, or a checkpoint for a person")
    parser.add_argument("--category", choices=CATEGORIES, help="the kind of work")
    parser.add_argument("--priority", choices=PRIORITIES, help="ready tasks run high first")
    parser.add_argument("--order", type=int, metavar="N", help="position among its siblings")
    approval = parser.add_mutually_exclusive_group()
    approval.add_argument(
        "--requires-approval",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether its work is merged only after a person approves "
        "(default: the initiative's setting)",
    )
    if update:
        approval.add_argument(
            "--inherit-approval",
            action="store_true",
            help="follow the initiative's approval default again",
        )
    else:
        parser.add_argument(
            "--status", choices=STATUSES, help="start in this status (default: pending)"
        )


def _register_workflow(group: Subparsers) -> None:
    ready = add_command(
        group,
        "ready",
        help="list the tasks that can start now",
        description=(
            "List pending tasks whose dependencies, and their phase's dependencies, are\n"
            "all completed: high priority first, then order. Approval plays no part: it\n"
            "gates the merge of finished work, not the start."
        ),
        examples=[
            "cw task ready",
            "cw task ready --initiative I7",
            "cw task ready --phase P1 --json",
        ],
        handler=cmd_ready,
    )
    ref_argument(
        ready,
        "--initiative",
        metavar="INITIATIVE",
        help="only in this initiative",
        kind="initiative",
    )
    ref_argument(ready, "--phase", metavar="PHASE", help="only in this phase", kind="phase")

    approve = add_command(
        group,
        "approve",
        help="approve a task waiting for approval: merge its work",
        description=(
            "Approve a pending_approval task: its agent's work is merged into the\n"
            "initiative branch and the task is completed (blocked, with a question in\n"
            "cw inbox, when the merge conflicts). A pending_approval task that never\n"
            "ran (e.g. from an accepted proposal) becomes pending, so it can start.\n"
            "Any other status is refused. Admin only."
        ),
        examples=["cw task approve T42", "cw task approve T42 --json"],
        handler=cmd_approve,
    )
    ref_argument(approve, "id", metavar="TASK", help="the task", kind="task")

    retry = add_command(
        group,
        "retry-merge",
        help="merge a task blocked by a conflict again",
        description=(
            "Merge a blocked task's agent branch into the initiative branch again, after\n"
            "someone fixed the conflict on the agent branch. Completed when it goes\n"
            "through; still blocked, with a new question in cw inbox, when it conflicts.\n"
            "Admin only."
        ),
        examples=["cw task retry-merge T42", "cw task retry-merge T42 --json"],
        handler=cmd_retry_merge,
    )
    ref_argument(retry, "id", metavar="TASK", help="the task", kind="task")

    pending = add_command(
        group,
        "pending-approval",
        help="list the tasks whose merge waits for approval",
        description="List tasks in pending_approval (their merge waits), oldest first.",
        examples=["cw task pending-approval", "cw task pending-approval --initiative I7 --json"],
        handler=cmd_pending_approval,
    )
    ref_argument(
        pending,
        "--initiative",
        metavar="INITIATIVE",
        help="only in this initiative",
        kind="initiative",
    )

    subtasks = add_command(
        group,
        "subtasks",
        help="list a task's subtasks",
        description="List a task's direct subtasks in their planned order.",
        examples=["cw task subtasks T42", "cw task subtasks T42 --json"],
        handler=cmd_subtasks,
    )
    ref_argument(subtasks, "id", metavar="TASK", help="the parent task", kind="task")

    for name, status, help_line in (
        ("start", "in_progress", "mark a task in progress"),
        ("done", "completed", "mark a task completed, unblocking what waits for it"),
    ):
        command = add_command(
            group,
            name,
            help=help_line,
            description=(
                f"Set a task's status to {status} (the same as\n"
                f"'cw task update TASK --status {status}')."
            ),
            examples=[f"cw task {name} T42", f"cw task {name} T42 --json"],
            handler=cmd_set_status,
        )
        command.set_defaults(status=status)
        ref_argument(command, "id", metavar="TASK", help="the task", kind="task")


# -- handlers ---------------------------------------------------------------------------


def _description(ctx: Context, args: argparse.Namespace) -> str | None:
    if args.description_file is not None:
        from crosswalk.cli._crud import read_source

        return read_source(ctx, args.description_file, "description").strip()
    return None if args.description is None else str(args.description)


def _shared_fields(args: argparse.Namespace) -> dict[str, Any]:
    return given(
        type=args.type,
        category=args.category,
        priority=args.priority,
        order=args.order,
        requiresApproval=args.requires_approval,
    )


def cmd_create(args: argparse.Namespace, ctx: Context) -> int:
    payload = given(
        name=args.name,
        phaseId=args.phase,
        initiativeId=args.initiative,
        parentTaskId=args.parent,
        description=_description(ctx, args) or None,
        status=args.status,
        **_shared_fields(args),
    )
    ctx.emit(ctx.client.mutation("task.create", payload), render_created)
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    filters = {
        "initiativeId": args.initiative,
        "phaseId": args.phase,
        "parentTaskId": args.parent,
        "status": args.status,
    }
    flags = ("initiative", "phase", "parent", "status")
    return send_list(ctx, args, "task", filters, flags, _COLUMNS, empty="no tasks match")


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    task = ctx.client.query("task.get", {"id": args.id})
    if ctx.json:
        ctx.emit(task, str)
        return EXIT_OK
    dependencies = ctx.client.query("task.dependencies", {"id": args.id})
    ctx.out(render_task(task, dependencies))
    return EXIT_OK


def cmd_update(args: argparse.Namespace, ctx: Context) -> int:
    payload: dict[str, Any] = {
        "id": args.id,
        **given(name=args.name, status=args.status),
        **_shared_fields(args),
    }
    clearable(payload, "description", _description(ctx, args))
    clearable(payload, "phaseId", args.phase)
    clearable(payload, "parentTaskId", args.parent)
    if args.inherit_approval:
        payload["requiresApproval"] = None
    return send_update(ctx, "task", payload)


def cmd_delete(args: argparse.Namespace, ctx: Context) -> int:
    return send_delete(ctx, "task", args.id)


def cmd_ready(args: argparse.Namespace, ctx: Context) -> int:
    tasks = ctx.client.query("task.ready", given(initiativeId=args.initiative, phaseId=args.phase))
    ctx.emit(tasks, lambda t: render_list(t, "no task is ready"))
    return EXIT_OK


def cmd_approve(args: argparse.Namespace, ctx: Context) -> int:
    task = ctx.client.mutation("task.approve", {"id": args.id})
    ctx.emit(task, lambda t: f"approved task {label(t)}: now {t.get('status')}")
    if task.get("status") == "blocked":
        ctx.err(f"the merge conflicts: see cw inbox, then cw task retry-merge {args.id}")
    return EXIT_OK


def cmd_retry_merge(args: argparse.Namespace, ctx: Context) -> int:
    task = ctx.client.mutation("task.retryMerge", {"id": args.id})
    ctx.emit(task, lambda t: f"retried the merge of task {label(t)}: now {t.get('status')}")
    return EXIT_OK


def cmd_pending_approval(args: argparse.Namespace, ctx: Context) -> int:
    tasks = ctx.client.query("task.pendingApproval", given(initiativeId=args.initiative))
    ctx.emit(tasks, lambda t: render_list(t, "no task waits for approval"))
    return EXIT_OK


def cmd_subtasks(args: argparse.Namespace, ctx: Context) -> int:
    tasks = ctx.client.query("task.subtasks", {"id": args.id})
    ctx.emit(tasks, lambda t: render_list(t, f"task {args.id} has no subtasks"))
    return EXIT_OK


def cmd_set_status(args: argparse.Namespace, ctx: Context) -> int:
    task = ctx.client.mutation("task.update", {"id": args.id, "status": args.status})
    ctx.emit(task, lambda t: f"task {label(t)} is now {t.get('status')}")
    return EXIT_OK
