"""``log.*``."""

from __future__ import annotations

from crosswalk.server.context import Context
from crosswalk.server.trpc import Router

router: Router[Context] = Router()
