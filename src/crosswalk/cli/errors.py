"""Everything that can end a ``cw`` command early, each with the exit code it maps to.

The exit code lives on the class (as click's ``ClickException.exit_code`` does) so that
``crosswalk.cli.main`` maps errors to exit codes in one ``except`` clause, and a new
command only has to raise the right error. This module imports nothing, so the client
path pays nothing for it.

    CliError                         exit_code
     ├── UsageError                  2  bad flags or arguments the parser could not see
     ├── TimedOutError               3  waited as long as asked and nothing came
     └── ClientError                    talking to the server failed
          ├── RemoteError            1  the server answered with a tRPC error
          ├── RequestTimeoutError    3  connected, but no response in time
          └── UnreachableError       4  no server answered at all
               └── ConnectionLostError  an event stream broke off midway
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_TIMED_OUT = 3
EXIT_UNREACHABLE = 4
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """Base of the errors ``cw`` reports as ``error: <message>`` without a traceback."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        #: An extra line telling what to do next, printed as ``hint: ...``.
        self.hint: str | None = None


class UsageError(CliError):
    """The command line is wrong in a way argparse cannot check (empty stdin, no identity)."""

    exit_code = EXIT_USAGE


class TimedOutError(CliError):
    """A wait ran out; the message tells how to resume."""

    exit_code = EXIT_TIMED_OUT


class ClientError(CliError):
    """A request to the server did not produce a result."""


class RemoteError(ClientError):
    """The server refused: it answered with a tRPC error envelope.

    ``code`` is the tRPC key (``NOT_FOUND``, ``UNAUTHORIZED``, ...), or
    ``INVALID_RESPONSE`` when the answer was not a tRPC envelope at all.
    """

    exit_code = EXIT_REFUSED

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    def __repr__(self) -> str:
        return f"RemoteError({self.code!r}, {self.message!r}, {self.http_status})"


class RequestTimeoutError(ClientError):
    """The server accepted the connection but sent no response before the read timeout.

    Distinct from ``UnreachableError``: a long poll that overruns its timeout is a slow
    server (or a deadline reached), not a missing one.
    """

    exit_code = EXIT_TIMED_OUT


class UnreachableError(ClientError):
    """No server answered: refused, reset before a response, unknown host, connect timeout.

    ``request_sent`` tells whether the request may have reached the server before the
    connection failed; callers retry idempotent work only when it is worth it (a refused
    first connection means nothing is listening, so retrying would only delay exit 4).
    """

    exit_code = EXIT_UNREACHABLE

    def __init__(self, message: str, *, request_sent: bool = False) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class ConnectionLostError(UnreachableError):
    """An event stream ended without the server's ``return`` event: reconnect and resume."""

    def __init__(self, message: str) -> None:
        super().__init__(message, request_sent=True)
