"""The dashboard's way to change state: the same procedures ``cw`` calls, as the admin.

Every button and form of the dashboard calls a procedure of the server's router by
its path (``message.reply``, ``task.approve``...), with its input validated by the
procedure's own model. So a reply typed in the page does exactly what ``cw reply``
does, and a procedure added later (stopping an agent, say) is one path away. As in
the tRPC endpoint, a procedure that does not wait runs through the server's offload
(on PostgreSQL, on a database thread rather than the event loop).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crosswalk.domain.errors import InvalidInputError, NotFoundError
from crosswalk.server.context import Context
from crosswalk.server.trpc import Router, format_validation_error, run_to_completion


class AdminApi:
    """Calls procedures of ``router`` in-process, as the signed-in person (the admin)."""

    def __init__(self, router: Router[Context], admin: Context) -> None:
        self._router = router
        self._context = admin
        self._offload = admin.services.offload

    def has(self, path: str) -> bool:
        """Whether the server offers this procedure (buttons for it are shown)."""
        procedure = self._router.get(path)
        return procedure is not None and procedure.kind != "subscription"

    async def call(self, path: str, input: dict[str, Any] | None = None) -> Any:
        """The procedure's result; bad input is an ``InvalidInputError`` naming the field."""
        procedure = self._router.get(path)
        if procedure is None or procedure.kind == "subscription":
            raise NotFoundError("procedure", path)
        parsed = None
        if procedure.input_model is not None:
            try:
                parsed = procedure.input_model.model_validate(input or {})
            except ValidationError as exc:
                raise InvalidInputError(format_validation_error(exc)) from None
        result = procedure.handler(self._context, parsed)
        if procedure.waits:
            return await result
        return await self._offload(run_to_completion, result, path)
