"""The one place that tells the dashboard something changed.

Every mutation procedure, when it returns without error, publishes
``CHANGES_KEY`` on the notifier; the dashboard's live stream (``crosswalk.server.web.live``)
waits on that key and has the open pages refresh what they show. Mutations are the
only way state changes (``cw``, agents and the dashboard itself all call them), so
wrapping them here covers every change without each procedure remembering to
publish.
"""

from __future__ import annotations

import functools
from typing import Any

from crosswalk.server.trpc import Procedure, Router
from crosswalk.services.notifier import CHANGES_KEY, Notifier


def publishing_changes(router: Router[Any], notifier: Notifier) -> Router[Any]:
    """A copy of ``router`` whose mutations publish ``CHANGES_KEY`` after they succeed."""
    wrapped: Router[Any] = Router()
    for procedure in router:
        handler = procedure.handler
        if procedure.kind == "mutation":
            handler = _publish_after(handler, notifier)
        wrapped.add(
            Procedure(
                procedure.path, procedure.kind, procedure.input_model, handler, procedure.public
            )
        )
    return wrapped


def _publish_after(handler: Any, notifier: Notifier) -> Any:
    @functools.wraps(handler)
    async def publish_after(ctx: Any, inp: Any) -> Any:
        result = await handler(ctx, inp)
        notifier.publish(CHANGES_KEY)
        return result

    return publish_after
