"""The one error tree of crosswalk.

Domain code, repositories and services raise these; one table
(``crosswalk.server.trpc.errors``) maps them to wire codes and HTTP statuses for the
tRPC endpoint and the dashboard alike, and the CLI maps the wire codes to exit codes.
Nothing above the repositories ever sees a driver exception.

    CrosswalkError
     ├── InvalidInputError        bad or inconsistent input (BAD_REQUEST)
     │    └── DependencyCycleError  a dependency that would close a cycle
     ├── NotFoundError            no entity with that id (NOT_FOUND)
     ├── ConflictError            the write collides with the current state (CONFLICT)
     │    └── RetryableError        a concurrent transaction won; the same call may be retried
     │    └── WaitCycleError        a question that would close a wait cycle
     ├── PreconditionFailedError  the target is in the wrong state (PRECONDITION_FAILED)
     ├── UnauthorizedError        no valid credentials (UNAUTHORIZED)
     ├── ForbiddenError           valid credentials, not allowed (FORBIDDEN)
     ├── LimitExceededError       one caller reached a cap (TOO_MANY_REQUESTS)
     ├── PayloadTooLargeError     the request body is too large (PAYLOAD_TOO_LARGE)
     └── StartupError             the server cannot start (never reaches a client)
          └── InvalidSettingError   a setting (environment variable) is unusable

This module imports only the standard library.
"""

from __future__ import annotations


class CrosswalkError(Exception):
    """Base of every error crosswalk raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(CrosswalkError):
    """The input is malformed or inconsistent; ``field`` names the culprit when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DependencyCycleError(InvalidInputError):
    """Adding the dependency would make an entity depend on itself."""


class NotFoundError(CrosswalkError):
    """No ``kind`` with this ``id`` exists."""

    def __init__(self, kind: str, id: str, message: str | None = None) -> None:
        super().__init__(message or f"{kind} '{id}' not found")
        self.kind = kind
        self.id = id


class ConflictError(CrosswalkError):
    """The write collides with what is stored (unique value taken, already answered, ...)."""


class RetryableError(ConflictError):
    """The database gave up ordering this transaction after a concurrent one (a
    serialization failure or deadlock); nothing was written and it may be retried."""


class WaitCycleError(ConflictError):
    """The question would make its asker wait, through others, for itself."""


class PreconditionFailedError(CrosswalkError):
    """The entity exists but is not in a state that allows the operation."""


class UnauthorizedError(CrosswalkError):
    """The caller presented no valid credentials."""


class ForbiddenError(CrosswalkError):
    """The caller is known but may not do this."""


class LimitExceededError(CrosswalkError):
    """The caller reached a cap that keeps one agent from starving the others; the
    message names the cap and the setting that raises it."""


class PayloadTooLargeError(CrosswalkError):
    """The request is larger than the server accepts."""


class StartupError(CrosswalkError):
    """The server cannot start: the message names the file or setting at fault and what
    to do; ``exit_code`` is the documented exit status of ``cw serve`` (README)."""

    exit_code = 10

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InvalidSettingError(StartupError):
    """An environment variable holds a value the server cannot use."""

    exit_code = 11

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting
