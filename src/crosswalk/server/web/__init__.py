"""The web dashboard: server-rendered pages at ``/``, beside the API at ``/trpc``.

Jinja2 templates, htmx 2 and its SSE extension (vendored in ``static/``, see
``static/VENDORED.md``), sign-in with the admin token, and a live stream driven by the
notifier. Reference: docs/dashboard.md.
"""

from __future__ import annotations

from starlette.applications import Starlette

from crosswalk.server.context import Context, Services
from crosswalk.server.trpc import Router
from crosswalk.server.web.api import AdminApi
from crosswalk.server.web.routes import Dashboard


def create_dashboard(services: Services, router: Router[Context]) -> Starlette:
    """The dashboard as an ASGI app, calling ``router``'s procedures for every change."""
    dashboard = Dashboard(services, AdminApi(router, services))
    return Starlette(routes=dashboard.routes())


__all__ = ["create_dashboard"]
