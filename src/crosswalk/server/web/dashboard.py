"""The dashboard's ASGI app, for the composition root to mount at ``/``."""

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
