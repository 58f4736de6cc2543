"""``server.*``: the deployment's servers, their capacity, load and heartbeat.
Administrator only."""

from __future__ import annotations

from typing import Any

from crosswalk.domain.timestamps import utcnow
from crosswalk.server.context import Context
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()


@router.query("server.list")
async def list_(ctx: Context, inp: None) -> dict[str, Any]:
    """Every server that ever reported: its capacity (``CW_MAX_AGENTS``), its load (live
    agents it runs plus agents placed on it not started yet), its last heartbeat, and
    whether it is live (heartbeat younger than ``CW_SERVER_LEASE_S``)."""
    ctx.principal.require_admin("list the servers")
    states = ctx.services.servers.states(utcnow())
    return {
        "servers": [
            {**to_api(state.server), "load": state.load, "live": state.live} for state in states
        ],
        "leaseSeconds": ctx.services.servers.lease_s,
    }
