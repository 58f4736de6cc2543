"""The interface command handlers use to call the server, as a ``typing.Protocol``.

``TrpcClient`` implements it; tests pass in-memory fakes. It lives in its own module so
that the client path never imports ``typing`` at runtime: modules refer to it only in
annotations, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class RpcClient(Protocol):
    """What command handlers need from a client; tests substitute an in-memory fake."""

    def query(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        """Call a query procedure and return its output."""
        ...

    def mutation(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        """Call a mutation procedure and return its output."""
        ...

    def subscribe(
        self,
        path: str,
        input: Any = None,
        *,
        last_event_id: str | None = None,
        deadline: float | None = None,
    ) -> Iterator[tuple[str | None, Any]]:
        """Stream a subscription's values as ``(tracked id or None, value)``."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
