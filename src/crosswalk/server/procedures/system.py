"""``health``: the one public procedure, for liveness checks and client discovery."""

from __future__ import annotations

from typing import Any

from crosswalk import __version__
from crosswalk.server.context import Context
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


@router.query("health", public=True)
async def health(ctx: Context, inp: None) -> dict[str, Any]:
    """Liveness and version, without credentials."""
    return {"ok": True, "version": __version__}
