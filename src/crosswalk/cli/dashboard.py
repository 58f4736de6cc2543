"""``cw dashboard``: open the web dashboard, signed in, in the person's browser.

Asks the server for a one-time sign-in link (``dashboard.signInLink``, admin only),
prints it and opens it with the standard library's ``webbrowser``; the link signs the
browser in once, within two minutes.
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
    """Add ``cw dashboard``."""
    dashboard = add_command(
        subparsers,
        "dashboard",
        help="open the web dashboard, signed in",
        description=(
            "Print a one-time link that signs a browser in to the server's web dashboard\n"
            "and open it in the default browser. The link works once, within two minutes;\n"
            "it needs the admin token (the default on the server's machine). With --json\n"
            "the link is only printed."
        ),
        examples=["cw dashboard", "cw dashboard --no-open", "cw dashboard --json"],
        handler=cmd_dashboard,
    )
    dashboard.add_argument(
        "--no-open", action="store_true", help="only print the link, do not open a browser"
    )


def dashboard_base(url: str) -> str:
    """The dashboard's address for an API endpoint URL (``.../trpc`` -> ``.../``)."""
    base = url.rstrip("/")
    return base.removesuffix("/trpc") + "/"


def cmd_dashboard(args: argparse.Namespace, ctx: Context) -> int:
    link = ctx.client.mutation("dashboard.signInLink", None)
    address = dashboard_base(ctx.url).rstrip("/") + str(link["path"])
    shown = {"url": address, "expiresInS": link["expiresInS"]}

    def render(value: Any) -> str:
        return (
            f"dashboard: {dashboard_base(ctx.url)}\n"
            f"sign-in link (works once, for {value['expiresInS']} s):\n  {value['url']}"
        )

    ctx.emit(shown, render)
    if not args.no_open and not ctx.json:
        import webbrowser

        webbrowser.open(address)
    return EXIT_OK
