"""The ``cw`` entry point: parse, dispatch, and turn every failure into a message and code.

Exit codes (``docs/contract.md``): 0 done; 1 the server refused; 2 usage error; 3 timed
out; 4 server unreachable; 130 interrupted. No traceback ever reaches the user: an
unexpected exception is reported in one line as a bug in ``cw``.
"""

from __future__ import annotations

import os
import sys

from crosswalk.cli.errors import (
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_USAGE,
    CliError,
    RemoteError,
    UnreachableError,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from crosswalk.cli.context import Context, Runtime

#: Every command group: its module (with ``register(subparsers)``, see
#: ``crosswalk.cli.commands``) and the top-level commands it adds, in ``cw --help`` order.
#: A group's module is imported only when one of its commands runs.
COMMAND_GROUPS: dict[str, tuple[str, ...]] = {
    "crosswalk.cli.conversation": ("ask", "wait", "listen", "answer", "conversation"),
    "crosswalk.cli.who": ("who",),
    "crosswalk.cli.serve": ("serve",),
    "crosswalk.cli.server": ("server",),
    "crosswalk.cli.initiative": ("initiative",),
    "crosswalk.cli.phase": ("phase",),
    "crosswalk.cli.task": ("task",),
    "crosswalk.cli.project": ("project",),
    "crosswalk.cli.page": ("page",),
    "crosswalk.cli.agent": ("agent",),
    "crosswalk.cli.account": ("account",),
    "crosswalk.cli.proposal": ("proposal",),
    "crosswalk.cli.message": ("message", "inbox", "reply"),
    "crosswalk.cli.tell": ("tell",),
    "crosswalk.cli.logs": ("logs",),
    "crosswalk.cli.dashboard": ("dashboard",),
    "crosswalk.cli.hooks": ("hook", "hooks"),
    "crosswalk.cli.mcp": ("mcp",),
}

DESCRIPTION = """\
cw: the crosswalk client. Coding agents use it to ask each other questions and
answer them; people use it to inspect and run the coordination server.

Settings come from flags, else the environment:
  CW_URL       server endpoint (default http://127.0.0.1:7878/trpc)
  CW_TOKEN     bearer token (default: the admin token file, for the server's user)
  CW_AGENT_ID  which agent you are (needed by ask and listen)

Exit codes: 0 done, 1 the server refused, 2 usage error, 3 timed out,
4 server unreachable, 130 interrupted."""

EXAMPLES = (
    'CW_AGENT_ID=a1 cw ask --agent reviewer "Is the migration merged?"',
    "CW_AGENT_ID=reviewer cw listen --follow",
    'cw answer 3cZyJ1k0Yp2vQ8dLmN4aB "Yes, in a1b2c3."',
    "cw serve",
)


def build_parser(*, load_all: bool = False) -> argparse.ArgumentParser:
    """The command tree; groups are built on demand unless ``load_all`` (help tests)."""
    from crosswalk import __version__
    from crosswalk.cli.commands import (
        CommandLine,
        HelpFormatter,
        LazyCommands,
        add_client_options,
        format_examples,
    )

    parser = CommandLine(
        prog="cw",
        description=DESCRIPTION,
        epilog=format_examples(EXAMPLES),
        formatter_class=HelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"cw {__version__}")
    add_client_options(parser, top_level=True)
    commands = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command", required=True, action=LazyCommands
    )
    assert isinstance(commands, LazyCommands)
    parser.commands = commands
    for module, names in COMMAND_GROUPS.items():
        commands.declare(module, names)
    if load_all:
        commands.load_all()
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``cw`` with ``argv`` (default: the process's arguments); return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "hook":
        # The agent CLI runs this after every tool call: straight to the hook, without
        # building the argument parser (``cw hook --help`` still goes through it).
        from crosswalk.cli.hook import DEADLINE_S, run_hook

        return run_hook(args[1], args[2], deadline_s=DEADLINE_S)
    return run(args)


def run(argv: Sequence[str], runtime: Runtime | None = None) -> int:
    """``main`` with the environment, streams and clock optionally supplied by the caller."""
    stderr = sys.stderr if runtime is None else runtime.stderr
    try:
        try:
            args = build_parser().parse_args(list(argv))
        except SystemExit as exc:  # --help, --version, and argparse's usage errors
            return _status(exc.code)
        # Imported only now: --version, --help and usage errors never need it.
        from crosswalk.cli.context import Context, Runtime

        ctx = Context(args, runtime or Runtime())
        try:
            if getattr(args, "cw_refs", None):
                from crosswalk.cli.refs import has_refs, resolve_refs

                if has_refs(args):
                    resolve_refs(args, ctx)
            status: int = args.handler(args, ctx)
            ctx.stdout.flush()
            return status
        except CliError as exc:
            report_error(exc, ctx, getattr(args, "command_parser", None))
            return exc.exit_code
        finally:
            ctx.close()
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (e.g. `cw ... | head`): nothing left to tell anyone, and
        # Python's own flush at exit must not complain either.
        _discard_stdout()
        return EXIT_REFUSED
    except Exception as exc:
        if os.environ.get("CW_DEBUG"):
            import traceback

            traceback.print_exc(file=stderr)
        stderr.write(
            f"error: unexpected {type(exc).__name__}: {exc}\n"
            "this is a bug in cw; please report it with the command you ran "
            "(CW_DEBUG=1 shows the traceback)\n"
        )
        return EXIT_REFUSED


def _discard_stdout() -> None:
    import contextlib

    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _status(code: object) -> int:
    if code is None:
        return 0
    return code if isinstance(code, int) else EXIT_USAGE


def report_error(
    exc: CliError, ctx: Context, parser: argparse.ArgumentParser | None = None
) -> None:
    """Print ``error: ...`` (and a hint when there is something to do about it)."""
    if exc.exit_code == EXIT_USAGE and parser is not None:
        ctx.stderr.write(parser.format_usage())
        ctx.err(f"{parser.prog}: error: {exc.message}")
        return
    if isinstance(exc, UnreachableError):
        ctx.err(
            f"error: cannot reach the crosswalk server at {ctx.url}: {exc.message}; "
            "start it with 'cw serve' or set CW_URL"
        )
    else:
        ctx.err(f"error: {exc.message}")
    hint = exc.hint or (_remote_hint(exc, ctx) if isinstance(exc, RemoteError) else None)
    if hint:
        ctx.err(f"hint: {hint}")


def _remote_hint(exc: RemoteError, ctx: Context) -> str | None:
    """What a person or agent can do about a refusal, when it is not obvious."""
    from crosswalk.refusals import refusal_hint

    return refusal_hint(exc.code, exc.message, agent_named=bool(ctx.agent_id), url=ctx.url)


if __name__ == "__main__":
    sys.exit(main())
