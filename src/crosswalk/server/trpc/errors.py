"""tRPC error codes and the one table that maps crosswalk's error tree onto them.

Every exception that reaches the wire goes through :func:`to_trpc_error`, and so does
every refusal the dashboard shows, so one error answers with one HTTP status everywhere:

- a :class:`TrpcError` passes through (protocol errors raised by the endpoint itself);
- a ``crosswalk.domain.errors`` error becomes its key from :data:`DOMAIN_ERROR_KEYS`;
- a pydantic ``ValidationError`` becomes ``BAD_REQUEST`` naming each failing field;
- anything else is a bug: ``INTERNAL_SERVER_ERROR`` with a fixed message, and the
  traceback goes to the ``crosswalk.server`` log, never to the client.

The numeric codes and HTTP statuses are tRPC 11's (``docs/wire.md``).
"""

from __future__ import annotations

import logging
import traceback
from typing import Any, Final, Literal

from pydantic import ValidationError

from crosswalk.domain import errors as domain

logger = logging.getLogger("crosswalk.server")

TrpcErrorKey = Literal[
    "PARSE_ERROR",
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_SUPPORTED",
    "TIMEOUT",
    "CONFLICT",
    "PRECONDITION_FAILED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "UNPROCESSABLE_CONTENT",
    "TOO_MANY_REQUESTS",
    "CLIENT_CLOSED_REQUEST",
    "INTERNAL_SERVER_ERROR",
    "NOT_IMPLEMENTED",
    "SERVICE_UNAVAILABLE",
]

#: key -> (JSON-RPC code, HTTP status), exactly as tRPC 11 sends them.
ERROR_CODES: Final[dict[TrpcErrorKey, tuple[int, int]]] = {
    "PARSE_ERROR": (-32700, 400),
    "BAD_REQUEST": (-32600, 400),
    "UNAUTHORIZED": (-32001, 401),
    "FORBIDDEN": (-32003, 403),
    "NOT_FOUND": (-32004, 404),
    "METHOD_NOT_SUPPORTED": (-32005, 405),
    "TIMEOUT": (-32008, 408),
    "CONFLICT": (-32009, 409),
    "PRECONDITION_FAILED": (-32012, 412),
    "PAYLOAD_TOO_LARGE": (-32013, 413),
    "UNSUPPORTED_MEDIA_TYPE": (-32015, 415),
    "UNPROCESSABLE_CONTENT": (-32022, 422),
    "TOO_MANY_REQUESTS": (-32029, 429),
    "CLIENT_CLOSED_REQUEST": (-32099, 499),
    "INTERNAL_SERVER_ERROR": (-32603, 500),
    "NOT_IMPLEMENTED": (-32603, 501),
    "SERVICE_UNAVAILABLE": (-32603, 503),
}

#: The one table from the domain error tree to tRPC keys. Looked up along the MRO, so a
#: subclass (``DependencyCycleError``) inherits its parent's key.
DOMAIN_ERROR_KEYS: Final[dict[type[domain.CrosswalkError], TrpcErrorKey]] = {
    domain.InvalidInputError: "BAD_REQUEST",
    domain.NotFoundError: "NOT_FOUND",
    domain.ConflictError: "CONFLICT",
    domain.PreconditionFailedError: "PRECONDITION_FAILED",
    domain.UnauthorizedError: "UNAUTHORIZED",
    domain.ForbiddenError: "FORBIDDEN",
    domain.LimitExceededError: "TOO_MANY_REQUESTS",
    domain.PayloadTooLargeError: "PAYLOAD_TOO_LARGE",
}

INTERNAL_MESSAGE: Final = "Internal server error"


class TrpcError(Exception):
    """An error with a tRPC key, as the wire shows it.

    Raise it for protocol-level failures; domain code raises ``crosswalk.domain.errors``
    instead. Like tRPC's ``TRPCError``, the message defaults to the key.
    """

    def __init__(self, key: TrpcErrorKey, message: str | None = None) -> None:
        self.key: TrpcErrorKey = key
        self.message: str = key if message is None else message
        self.code, self.http_status = ERROR_CODES[key]
        super().__init__(self.message)


def _domain_key(exc: BaseException) -> TrpcErrorKey | None:
    for cls in type(exc).__mro__:
        key = DOMAIN_ERROR_KEYS.get(cls)
        if key is not None:
            return key
    return None


def error_code_for(exc: BaseException) -> TrpcErrorKey:
    """The tRPC key the client will see for ``exc``."""
    if isinstance(exc, TrpcError):
        return exc.key
    if isinstance(exc, ValidationError):
        return "BAD_REQUEST"
    return _domain_key(exc) or "INTERNAL_SERVER_ERROR"


def format_validation_error(error: ValidationError) -> str:
    """``field.path: problem`` for each failure, joined by ``; ``.

    The whole input failing (absent, or not an object) has an empty ``loc``: it is
    named ``input``. Pydantic's echo of the offending value is left out on purpose: it
    may be a 100 kB question.
    """
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        loc = ".".join(str(part) for part in item["loc"]) or "input"
        parts.append(f"{loc}: {item['msg']}")
    return "; ".join(parts) or "input: invalid"


def to_trpc_error(exc: BaseException, path: str | None = None) -> TrpcError:
    """Map any exception to the :class:`TrpcError` the client sees; log the unexpected ones."""
    if isinstance(exc, TrpcError):
        return exc
    if isinstance(exc, ValidationError):
        mapped = TrpcError("BAD_REQUEST", format_validation_error(exc))
    elif (key := _domain_key(exc)) is not None:
        mapped = TrpcError(key, exc.message if isinstance(exc, domain.CrosswalkError) else None)
    else:
        logger.error("unhandled error in %s", path or "create_context", exc_info=exc)
        mapped = TrpcError("INTERNAL_SERVER_ERROR", INTERNAL_MESSAGE)
    mapped.__cause__ = exc
    return mapped


def error_shape(error: TrpcError, path: str | None, *, debug: bool = False) -> dict[str, Any]:
    """The bare error object tRPC sends: ``{message, code, data: {code, httpStatus, path?}}``.

    ``path`` is given only for errors that belong to one call. ``stack`` only in debug.
    """
    data: dict[str, Any] = {"code": error.key, "httpStatus": error.http_status}
    if debug:
        origin = error.__cause__ or error
        data["stack"] = "".join(traceback.format_exception(origin))
    if path is not None:
        data["path"] = path
    return {"message": error.message, "code": error.code, "data": data}
