"""``cw serve``: run the crosswalk server in the foreground.

The server (SQLAlchemy, Starlette, uvicorn, ...) is imported inside the handler only:
every other ``cw`` command must start without it.
"""

from __future__ import annotations

from crosswalk import config
from crosswalk.cli.commands import add_command, port_number
from crosswalk.cli.errors import CliError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse

    from crosswalk.cli.commands import Subparsers
    from crosswalk.cli.context import Context


def register(subparsers: Subparsers) -> None:
    """Add ``cw serve``."""
    serve = add_command(
        subparsers,
        "serve",
        help="run the crosswalk server",
        description=(
            "Run the coordination server in the foreground until Ctrl-C. It stores data in\n"
            "SQLite in the data directory ($CW_HOME, else ~/.crosswalk) unless --db or\n"
            "CW_DATABASE_URL names another database, and writes the admin token there on\n"
            "first start. It binds to 127.0.0.1 unless told otherwise. Agents it runs keep\n"
            "running when it stops (the next start adopts them) unless --stop-agents.\n"
            "On PostgreSQL several servers share the agents (docs/deploy.md): each runs up\n"
            "to CW_MAX_AGENTS of them; --worker runs agents only (no dispatch loop, no\n"
            "dashboard; its agents still reach it over the API)."
        ),
        examples=[
            "cw serve",
            "cw serve --port 9000",
            "cw serve --db postgresql+psycopg://localhost/crosswalk",
            "cw serve --stop-agents",
            "CW_SERVER_ID=gpu-box CW_MAX_AGENTS=8 cw serve --worker --db postgresql+psycopg://db/cw",
        ],
        handler=cmd_serve,
        client_options=False,
    )
    serve.add_argument(
        "--host",
        default=config.DEFAULT_HOST,
        metavar="H",
        help=f"address to bind (default {config.DEFAULT_HOST})",
    )
    serve.add_argument(
        "--port",
        type=port_number,
        default=config.DEFAULT_PORT,
        metavar="P",
        help=f"port to listen on (default {config.DEFAULT_PORT})",
    )
    serve.add_argument(
        "--db",
        metavar="URL",
        default=None,
        help="SQLAlchemy database URL (default: $CW_DATABASE_URL, else SQLite in the data dir)",
    )

    serve.add_argument(
        "--stop-agents",
        action="store_true",
        help="stop the running agents when the server stops (default: they run on)",
    )
    serve.add_argument(
        "--worker",
        action="store_true",
        help="run agents placed here only: no dispatch loop, no dashboard",
    )


def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    try:
        from crosswalk.server.main import serve  # type: ignore[import-not-found, unused-ignore]
    except ImportError as exc:
        raise CliError(
            f"the crosswalk server cannot be loaded in this installation ({exc}); "
            "reinstall crosswalk with its dependencies"
        ) from None
    result: int = serve(
        args.host, args.port, args.db, stop_agents=args.stop_agents, worker=args.worker
    )
    return result
