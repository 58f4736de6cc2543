"""How ``cw`` commands are declared, so that many command groups stay uniform.

A command group is a module under ``crosswalk.cli`` with a ``register(subparsers)``
function, listed with its top-level command names in ``crosswalk.cli.main.COMMAND_GROUPS``
(the module is imported, and its parsers built, only when one of those commands runs or
the full help is printed). Each command is declared with
``add_command`` (which refuses to register a command without a one-line help, a
description and examples; ``tests/unit/cli/test_help.py`` checks the whole tree) and is
bound to a handler ``(args, ctx) -> exit code``::

    def register(subparsers: Subparsers) -> None:
        tasks = add_group(subparsers, "task", help="inspect and change tasks",
                          description="...", examples=["cw task get T1"])
        get = add_command(tasks, "get", help="show one task", description="...",
                          examples=["cw task get T1", "cw task get T1 --json"],
                          handler=cmd_get)
        get.add_argument("id", metavar="TASK_ID", help="the task's id")

    def cmd_get(args: argparse.Namespace, ctx: Context) -> int:
        ctx.emit(ctx.client.query("task.get", {"id": args.id}), render_task)
        return EXIT_OK

Handlers raise ``crosswalk.cli.errors`` exceptions to fail; ``main`` turns them into
messages and exit codes. Group modules import only the standard library and
``crosswalk.cli`` at module level (the server lazily, inside a handler).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import TypeAlias

    from crosswalk.cli.context import Context

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # argparse's action class is not subscriptable at runtime
    Subparsers = argparse._SubParsersAction

Handler = Callable[[argparse.Namespace, "Context"], int]


@functools.cache
def _help_width() -> int:
    """The terminal's width for help text, asked once (argparse asks per argument)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 80
    return max(columns, 40) - 2


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions and ``Examples:`` epilogs as written; wider option column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=_help_width())


class LazyCommands(Subparsers):
    """Top-level commands whose group module is imported and built only when needed.

    argparse does real work for every parser and argument, and ``cw`` runs for every
    agent action; so ``cw ask`` builds only the conversation commands, and ``cw
    --version`` builds none. Declared names are valid choices from the start.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._pending: dict[str, str] = {}

    def declare(self, module: str, names: Sequence[str]) -> None:
        """``module``'s ``register(subparsers)`` adds exactly the commands ``names``."""
        for name in names:
            self._pending[name] = module
            self._name_parser_map[name] = None  # type: ignore[assignment]  # built on use

    def load(self, name: str) -> None:
        """Build the parsers of the group that provides ``name`` (once)."""
        module = self._pending.get(name)
        if module is None:
            return
        names = [n for n, m in self._pending.items() if m == module]
        for n in names:
            del self._pending[n]
            del self._name_parser_map[n]
        importlib.import_module(module).register(self)
        missing = [n for n in names if n not in self._name_parser_map]
        if missing:
            raise RuntimeError(f"{module}.register() did not add the commands {missing}")

    def load_all(self) -> None:
        for name in list(self._pending):
            self.load(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[object] | None,
        option_string: str | None = None,
    ) -> None:
        if isinstance(values, list) and values and isinstance(values[0], str):
            self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


class CommandLine(argparse.ArgumentParser):
    """The top-level parser: builds every command group before printing the full help."""

    commands: LazyCommands | None = None

    def format_help(self) -> str:
        if self.commands is not None:
            self.commands.load_all()
        return super().format_help()


def format_examples(examples: Sequence[str]) -> str:
    """The ``Examples:`` epilog every command carries."""
    return "Examples:\n" + "\n".join(f"  {example}" for example in examples)


def add_client_options(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """``--url``, ``--token``, ``--as``, ``--json``: accepted before or after the command.

    Below the top level the defaults are suppressed, so an option given before the
    command (``cw --json ask ...``) is not reset by the subcommand's parser.
    """
    group = parser.add_argument_group("connection and output")
    default: object = None if top_level else argparse.SUPPRESS
    group.add_argument(
        "--url",
        default=default,
        metavar="URL",
        help="server endpoint (default: $CW_URL, else http://127.0.0.1:7878/trpc)",
    )
    group.add_argument(
        "--token",
        default=default,
        metavar="TOKEN",
        help="bearer token (default: $CW_TOKEN, else the admin token file)",
    )
    group.add_argument(
        "--as",
        "--agent-id",
        dest="agent_id",
        default=default,
        metavar="AGENT_ID",
        help="act as this agent (default: $CW_AGENT_ID)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=False if top_level else argparse.SUPPRESS,
        help="print one JSON document instead of text (JSON lines with --follow)",
    )


def add_command(
    subparsers: Subparsers,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str],
    handler: Handler | None = None,
    client_options: bool = True,
    aliases: Sequence[str] = (),
) -> argparse.ArgumentParser:
    """Declare a command; ``handler`` runs it (omit it for a group of subcommands).
    ``aliases`` are other names for the same command (kept for older scripts)."""
    if not help.strip() or not description.strip() or not examples:
        raise ValueError(f"command {name!r} needs a help line, a description and examples")
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=format_examples(examples),
        formatter_class=HelpFormatter,
        allow_abbrev=False,
        aliases=list(aliases),
    )
    if client_options:
        add_client_options(parser)
    if handler is not None:
        parser.set_defaults(handler=handler, command_parser=parser)
    return parser


def add_group(
    subparsers: Subparsers,
    name: str,
    *,
    help: str,
    description: str,
    examples: Sequence[str],
) -> Subparsers:
    """Declare a command group (``cw conversation ...``); returns its subparsers."""
    parser = add_command(subparsers, name, help=help, description=description, examples=examples)
    return parser.add_subparsers(
        title="commands", metavar="COMMAND", dest=f"{name}_command", required=True
    )


#: ``(dest, kind)`` of each argument that names an initiative, phase or task, kept in
#: the command's defaults under this name (see :func:`ref_argument`).
REFS_DEFAULT = "cw_refs"


def ref_argument(
    parser: argparse.ArgumentParser,
    *names: str,
    kind: str,
    group: argparse._ActionsContainer | None = None,
    **kwargs: object,
) -> argparse.Action:
    """An argument naming an initiative, phase or task (``kind``): a person may give
    its id, its name or the start of its id. Before the handler runs, ``main`` asks
    the server which one it is (``KIND.resolve``, one rule for every client) and puts
    the id in its place; ambiguous or unknown, the server's error says so and lists
    the candidates. ``group`` is the (mutually exclusive) group it belongs to, if any."""
    if isinstance(kwargs.get("help"), str):
        kwargs["help"] = f"{kwargs['help']}: id, name or start of id"
    action = (group or parser).add_argument(*names, **kwargs)  # type: ignore[arg-type]
    refs = tuple(parser.get_default(REFS_DEFAULT) or ())
    parser.set_defaults(**{REFS_DEFAULT: (*refs, (action.dest, kind))})
    return action


def seconds(text: str) -> float:
    """argparse type for ``--timeout S``: a number of seconds, zero or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type for counts such as ``--limit N``."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {text!r}")
    return value


def port_number(text: str) -> int:
    """argparse type for ``--port``: 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port between 0 and 65535, got {text!r}")
    return value
