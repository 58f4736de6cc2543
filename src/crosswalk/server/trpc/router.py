"""Procedure registry: what the endpoint can call, looked up by dotted path.

A :class:`Router` is a flat ``path -> Procedure`` dict built at import time, so the
request path does one dict lookup. Procedure modules each define a ``Router`` and the
composition root merges them; nesting is only a naming convention (``conversation.get``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

ProcedureKind = Literal["query", "mutation", "subscription"]

CtxT = TypeVar("CtxT")
QueryFnT = TypeVar("QueryFnT", bound=Callable[..., Awaitable[Any]])
SubscriptionFnT = TypeVar(
    "SubscriptionFnT",
    bound=Callable[..., AsyncIterator[Any] | Awaitable[AsyncIterator[Any]]],
)

# Dotted identifiers. Commas and slashes are excluded: they separate batch calls and
# URL segments, so a path containing one could never be called.
_PATH_RE = re.compile(r"[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*")
_BAD_EVENT_ID_RE = re.compile(r"[\0\r\n]")


@dataclass(frozen=True, slots=True)
class Tracked:
    """A subscription value with an SSE event id (tRPC's ``tracked(id, data)``).

    The client remembers the last id and, on reconnect, sends it back; the endpoint
    merges it into the subscription's input as ``lastEventId`` so the generator can
    resume after it.
    """

    id: str
    data: Any

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("a tracked event id must not be empty")
        if _BAD_EVENT_ID_RE.search(self.id):
            raise ValueError("a tracked event id must not contain NUL, CR or LF")


@dataclass(frozen=True, slots=True)
class Procedure(Generic[CtxT]):
    """One callable procedure.

    ``handler(ctx, inp)`` gets the validated ``input_model`` instance, or ``None`` when
    the procedure takes no input (any input sent is then ignored, as tRPC does). Query
    and mutation handlers are coroutines returning a JSON-compatible value;
    subscription handlers return an async iterator of values or :class:`Tracked`.
    ``public`` procedures are callable without credentials. A query or mutation
    that ``waits`` (a long poll) suspends on the event loop; every other one only
    calls synchronous code, so the endpoint may run it on a worker thread.
    """

    path: str
    kind: ProcedureKind
    input_model: type[BaseModel] | None
    handler: Callable[[CtxT, Any], Any]
    public: bool = False
    waits: bool = False


class Router(Generic[CtxT]):
    """A set of procedures registered with decorators, mergeable into a bigger one."""

    def __init__(self) -> None:
        self._procedures: dict[str, Procedure[CtxT]] = {}

    def query(
        self,
        path: str,
        *,
        input: type[BaseModel] | None = None,
        public: bool = False,
        waits: bool = False,
    ) -> Callable[[QueryFnT], QueryFnT]:
        """Register ``async def handler(ctx, inp) -> value`` as a query (HTTP GET);
        ``waits`` if it awaits anything (see :class:`Procedure`)."""
        return self._decorator(path, "query", input, public, waits)

    def mutation(
        self,
        path: str,
        *,
        input: type[BaseModel] | None = None,
        public: bool = False,
        waits: bool = False,
    ) -> Callable[[QueryFnT], QueryFnT]:
        """Register ``async def handler(ctx, inp) -> value`` as a mutation (HTTP POST)."""
        return self._decorator(path, "mutation", input, public, waits)

    def subscription(
        self, path: str, *, input: type[BaseModel] | None = None, public: bool = False
    ) -> Callable[[SubscriptionFnT], SubscriptionFnT]:
        """Register an async generator ``handler(ctx, inp)`` as a subscription (SSE)."""
        return self._decorator(path, "subscription", input, public, waits=True)

    def _decorator(
        self,
        path: str,
        kind: ProcedureKind,
        input_model: type[BaseModel] | None,
        public: bool,
        waits: bool,
    ) -> Callable[[Any], Any]:
        def register(handler: Any) -> Any:
            self.add(Procedure(path, kind, input_model, handler, public, waits))
            return handler

        return register

    def add(self, procedure: Procedure[CtxT]) -> None:
        """Register one procedure; a malformed or duplicate path is a programming error."""
        if not _PATH_RE.fullmatch(procedure.path):
            raise ValueError(f"invalid procedure path {procedure.path!r}")
        if procedure.input_model is not None and not (
            isinstance(procedure.input_model, type) and issubclass(procedure.input_model, BaseModel)
        ):
            raise TypeError(f"input of {procedure.path!r} must be a pydantic model class or None")
        if procedure.path in self._procedures:
            raise ValueError(f"procedure {procedure.path!r} is already registered")
        self._procedures[procedure.path] = procedure

    def merge(self, *others: Router[CtxT]) -> Router[CtxT]:
        """Add every procedure of ``others`` to this router; returns ``self`` for chaining."""
        for other in others:
            for procedure in other._procedures.values():
                self.add(procedure)
        return self

    def get(self, path: str) -> Procedure[CtxT] | None:
        """The procedure at ``path``, if any."""
        return self._procedures.get(path)

    @property
    def procedures(self) -> Mapping[str, Procedure[CtxT]]:
        """All procedures by path: a live, read-only view."""
        return MappingProxyType(self._procedures)

    def __contains__(self, path: object) -> bool:
        return path in self._procedures

    def __iter__(self) -> Iterator[Procedure[CtxT]]:
        return iter(self._procedures.values())

    def __len__(self) -> int:
        return len(self._procedures)
