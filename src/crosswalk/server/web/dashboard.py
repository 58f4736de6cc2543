"""The dashboard's ASGI app, for the composition root to mount at ``/``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp

from crosswalk.server.context import Context
from crosswalk.server.trpc import Router
from crosswalk.server.web.api import AdminApi
from crosswalk.server.web.headers import SecurityHeaders
from crosswalk.server.web.routes import Dashboard


def create_dashboard(admin: Context, router: Router[Context]) -> ASGIApp:
    """The dashboard as an ASGI app, reading the core's repositories and calling
    ``router``'s procedures as ``admin`` for every change; each of its responses carries
    the headers of ``headers.SecurityHeaders``."""
    dashboard = Dashboard(admin.services, AdminApi(router, admin), admin.runtime.review)
    return SecurityHeaders(Starlette(routes=dashboard.routes()))
