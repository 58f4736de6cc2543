"""A generic tRPC 11 server for Starlette: HTTP queries, mutations, batches and SSE.

Knows nothing about crosswalk's procedures; it imports only the domain's error tree
(``crosswalk.domain.errors``) to map it to wire codes. Procedure modules register on a
:class:`Router` and the composition root mounts a :class:`TrpcEndpoint` at ``/trpc``.
"""

from crosswalk.server.trpc.endpoint import CreateContext, TrpcEndpoint, run_to_completion
from crosswalk.server.trpc.errors import (
    DOMAIN_ERROR_KEYS,
    ERROR_CODES,
    TrpcError,
    TrpcErrorKey,
    error_code_for,
    error_shape,
    format_validation_error,
    to_trpc_error,
)
from crosswalk.server.trpc.router import Procedure, ProcedureKind, Router, Tracked

__all__ = [
    "DOMAIN_ERROR_KEYS",
    "ERROR_CODES",
    "CreateContext",
    "Procedure",
    "ProcedureKind",
    "Router",
    "Tracked",
    "TrpcEndpoint",
    "TrpcError",
    "TrpcErrorKey",
    "error_code_for",
    "error_shape",
    "format_validation_error",
    "run_to_completion",
    "to_trpc_error",
]
