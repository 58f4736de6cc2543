"""The dashboard's ASGI app, for the composition root to mount at ``/``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from crosswalk.server.context import Context, Services
from crosswalk.server.trpc import Router
from crosswalk.server.web.api import AdminApi
from crosswalk.server.web.headers import SecurityHeaders
from crosswalk.server.web.routes import Dashboard


def create_dashboard(services: Services, router: Router[Context]) -> ASGIApp:
    """The dashboard as an ASGI app, calling ``router``'s procedures for every change;
    each of its responses carries the headers of ``headers.SecurityHeaders``."""
    dashboard = Dashboard(services, AdminApi(router, services))
    return SecurityHeaders(Starlette(routes=dashboard.routes()))
