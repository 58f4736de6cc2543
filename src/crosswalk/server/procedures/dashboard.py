"""``dashboard.*``: signing the person's browser in to the web dashboard."""

from __future__ import annotations

from typing import Any

from crosswalk.server.context import Context
from crosswalk.server.trpc import Router
from crosswalk.services.sessions import LINK_TTL_S

router: Router[Context] = Router()

#: Where a sign-in code is redeemed (``crosswalk.server.web.routes`` serves it).
SIGN_IN_PATH = "/signin/"


@router.mutation("dashboard.signInLink")
async def sign_in_link(ctx: Context, inp: None) -> dict[str, Any]:
    """``{path, expiresInS}``: a path on this server that signs a browser in to the
    dashboard once, within ``expiresInS`` seconds (``cw dashboard`` opens it)."""
    ctx.principal.require_admin("sign in to the dashboard")
    code = ctx.services.sessions.create_link_code()
    return {"path": SIGN_IN_PATH + code, "expiresInS": int(LINK_TTL_S)}
