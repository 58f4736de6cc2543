"""The tRPC HTTP endpoint: an ASGI app that dispatches to a :class:`Router`.

It follows tRPC 11's ``resolveResponse`` step by step, because the official client
depends on its exact behaviour:

1. HEAD is 204. Then request-level checks, whose failure is one error object (no
   ``path``, even for a batch): path encoding, content-type, mixed procedure types,
   ``connectionParams``, body size.
2. Per call, in order: NOT_FOUND, METHOD_NOT_SUPPORTED (sets ``allow``), subscription
   in a batch, the context (``create_context`` ran once; its failure is reported by each
   call, with its path, as tRPC does), the input (parsed lazily; JSON and validation
   errors are BAD_REQUEST), then the handler.
3. A single subscription call becomes an SSE stream (even when it failed: the error is
   then a ``serialized-error`` event in a 200 response); anything else is JSON, an array
   for ``?batch=1``, with status 207 when the calls' statuses differ.

Written against raw ASGI, not Starlette's Request/Response, because this is the path
every request takes; ``create_context`` still gets a ``starlette.requests.Request``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, Final, Generic

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from crosswalk.server.trpc.errors import TrpcError, error_shape, to_trpc_error
from crosswalk.server.trpc.jsonenc import dumps_bytes
from crosswalk.server.trpc.request import (
    ClientDisconnectedError,
    Inputs,
    RequestHead,
    check_content_type,
    decode_procedure_path,
    last_event_id,
    parse_connection_params,
    parse_query,
    read_body,
    usable_event_id,
)
from crosswalk.server.trpc.router import CtxT, Procedure, Router
from crosswalk.server.trpc.sse import SseStream

logger = logging.getLogger("crosswalk.server")

CreateContext = Callable[[Request, bool], Awaitable[CtxT]]
# Runs a blocking function somewhere that does not hold up the event loop.
Offload = Callable[..., Awaitable[Any]]

_ACCEPTED_METHOD: Final = {"query": "GET", "mutation": "POST", "subscription": "GET"}
_JSON_HEADERS: Final[list[tuple[bytes, bytes]]] = [
    (b"content-type", b"application/json"),
    (b"vary", b"trpc-accept, accept"),
]
_HEAD_START: Final[Message] = {"type": "http.response.start", "status": 204, "headers": []}
_EMPTY_BODY: Final[Message] = {"type": "http.response.body", "body": b""}

# One call's outcome: (error, data). data is meaningful only when error is None.
_Outcome = tuple[TrpcError | None, Any]


class TrpcEndpoint(Generic[CtxT]):
    """ASGI app serving ``router`` over tRPC 11's HTTP protocol. Mount it at ``/trpc``.

    ``create_context(request, public)`` runs once per request that reaches a procedure;
    ``public`` is True when every called procedure is public. ``request.state.
    connection_params`` holds the parsed ``connectionParams`` (SSE clients' way to send
    credentials) or None. Raising a ``CrosswalkError`` there fails every call with it.

    With ``offload``, query and mutation handlers that do not wait (see
    :class:`Procedure`) run through it, e.g. on a worker thread, so their blocking
    work never holds up the event loop; without it they run on the loop.
    """

    def __init__(
        self,
        router: Router[CtxT],
        create_context: CreateContext[CtxT],
        *,
        max_body_bytes: int = 1 << 20,
        ping_interval_s: float | None = 10.0,
        debug: bool = False,
        offload: Offload | None = None,
    ) -> None:
        self._lookup = router.procedures.get
        self._offload = offload
        self._create_context = create_context
        self._max_body_bytes = max_body_bytes
        self._ping_interval_s = ping_interval_s
        self._debug = debug
        self._streams: set[SseStream] = set()
        self._closing = False

    async def close(self, timeout_s: float = 5.0) -> None:
        """End every open SSE stream without a ``return`` event and refuse new ones.

        Clients treat the ended stream as a dropped connection and reconnect (with
        their last event id) to the restarted server. Waits up to ``timeout_s`` for
        the subscription generators to close.
        """
        self._closing = True
        streams = list(self._streams)
        for stream in streams:
            stream.shutdown()
        if streams:
            waiters = [asyncio.ensure_future(stream.wait_finished()) for stream in streams]
            _, pending = await asyncio.wait(waiters, timeout=timeout_s)
            for waiter in pending:
                waiter.cancel()
            if pending:
                logger.warning("%d subscription stream(s) did not close in time", len(pending))

    async def call(self, ctx: CtxT, path: str, input: Any = None) -> Any:
        """Call the query or mutation at ``path`` in process, as ``ctx``'s caller, the
        way a request does (input validated, run off the loop unless it waits); its
        failure is raised as the :class:`TrpcError` a request would get."""
        procedure = self._lookup(path)
        if procedure is None or procedure.kind == "subscription":
            raise TrpcError("NOT_FOUND", f'No procedure found on path "{path}"')
        error, data = await self._call(procedure, 0, path, ctx, _Given(input))
        if error is not None:
            raise error
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        method: str = scope["method"]
        if method == "HEAD":
            await send(_HEAD_START)
            await send(_EMPTY_BODY)
            return
        try:
            await self._handle(scope, receive, send, method)
        except ClientDisconnectedError:
            return

    async def _handle(self, scope: Scope, receive: Receive, send: Send, method: str) -> None:
        try:
            call = await self._parse(scope, receive, method)
        except TrpcError as refused:
            await _send_json(send, refused.http_status, _error_item(refused, None, self._debug))
            return
        ctx: Any = None
        ctx_error: TrpcError | None = None
        if any(check is None for check in call.checks):
            ctx, ctx_error = await self._context(scope, receive, call)
        if call.kind == "subscription" and not call.is_batch:
            await self._subscribe(send, receive, call, ctx, ctx_error)
        elif not call.is_batch:
            procedure, error, data = call.procedures[0], call.checks[0] or ctx_error, None
            if error is None and procedure is not None:
                error, data = await self._call(procedure, 0, call.paths[0], ctx, call.inputs)
            item, status = _envelope(error, data, call.paths[0], self._debug)
            await _send_json(send, status, item, call.allow)
        else:
            outcomes = await self._call_batch(call, ctx, ctx_error)
            items: list[bytes] = []
            statuses: set[int] = set()
            for path, (error, data) in zip(call.paths, outcomes, strict=True):
                item, status = _envelope(error, data, path, self._debug)
                items.append(item)
                statuses.add(status)
            status = statuses.pop() if len(statuses) == 1 else 207
            await _send_json(send, status, b"[" + b",".join(items) + b"]", call.allow)

    async def _parse(self, scope: Scope, receive: Receive, method: str) -> _ParsedCall[CtxT]:
        """Everything known before the context exists; raises request-level errors."""
        head = RequestHead(scope)
        params = parse_query(scope["query_string"])
        is_batch = params.get("batch") == "1"
        path = decode_procedure_path(scope)
        check_content_type(method, head.content_type)
        paths = path.split(",") if is_batch else [path]
        procedures = [self._lookup(p) for p in paths]
        kind = _single_kind(procedures)
        connection_params = parse_connection_params(params.get("connectionParams"))
        if head.wants_jsonl and not is_batch:
            raise TrpcError(
                "BAD_REQUEST", "Streaming requests must be batched (you can do a batch of 1)"
            )
        if method == "GET":
            raw_input: str | bytes | None = params.get("input")
        else:
            raw_input = await read_body(receive, self._max_body_bytes, head.content_length)
        call = _ParsedCall(paths, procedures, kind, is_batch, Inputs(raw_input, is_batch))
        call.connection_params = connection_params
        if kind == "subscription":
            call.resume_from = last_event_id(head, params)
        for procedure, call_path in zip(procedures, paths, strict=True):
            check = _precheck(procedure, call_path, method, is_batch)
            if check is not None and check.key == "METHOD_NOT_SUPPORTED" and procedure:
                call.allow = _ACCEPTED_METHOD[procedure.kind].encode()
            call.checks.append(check)
        return call

    async def _context(
        self, scope: Scope, receive: Receive, call: _ParsedCall[CtxT]
    ) -> tuple[Any, TrpcError | None]:
        request = Request(scope, receive)
        request.state.connection_params = call.connection_params
        public = all(p.public for p in call.procedures if p is not None)
        try:
            return await self._create_context(request, public), None
        except Exception as exc:
            return None, to_trpc_error(exc, None)

    async def _call(
        self,
        procedure: Procedure[CtxT],
        index: int,
        path: str,
        ctx: Any,
        inputs: Inputs | _Given,
    ) -> _Outcome:
        try:
            if procedure.input_model is None:
                result = procedure.handler(ctx, None)
            else:
                result = procedure.handler(
                    ctx, procedure.input_model.model_validate(inputs.get(index))
                )
            if self._offload is not None and not procedure.waits:
                return None, await self._offload(run_to_completion, result, path)
            return None, await result
        except Exception as exc:
            return to_trpc_error(exc, path), None

    async def _call_batch(
        self, call: _ParsedCall[CtxT], ctx: Any, ctx_error: TrpcError | None
    ) -> list[_Outcome]:
        """Run the calls concurrently, as tRPC does (a slow call does not delay the others)."""
        outcomes: list[_Outcome] = []
        pending: list[tuple[int, Awaitable[_Outcome]]] = []
        for index, procedure in enumerate(call.procedures):
            error = call.checks[index] or ctx_error
            outcomes.append((error, None))
            if error is None and procedure is not None:
                pending.append(
                    (index, self._call(procedure, index, call.paths[index], ctx, call.inputs))
                )
        if len(pending) == 1:
            index, awaitable = pending[0]
            outcomes[index] = await awaitable
        elif pending:
            results = await asyncio.gather(*(awaitable for _, awaitable in pending))
            for (index, _), outcome in zip(pending, results, strict=True):
                outcomes[index] = outcome
        return outcomes

    async def _subscribe(
        self,
        send: Send,
        receive: Receive,
        call: _ParsedCall[CtxT],
        ctx: Any,
        ctx_error: TrpcError | None,
    ) -> None:
        procedure, path = call.procedures[0], call.paths[0]
        error = call.checks[0] or ctx_error
        source: AsyncIterator[Any] | None = None
        if error is None and self._closing:
            error = TrpcError("SERVICE_UNAVAILABLE", "Server is shutting down")
        if error is None and procedure is not None:
            source, error = await self._open_subscription(procedure, path, ctx, call)
        stream = SseStream(
            send,
            receive,
            source=source,
            error=error,
            path=path,
            last_event_id=usable_event_id(call.resume_from),
            ping_interval_s=self._ping_interval_s,
            debug=self._debug,
            extra_headers=[(b"allow", call.allow)] if call.allow else None,
        )
        self._streams.add(stream)
        try:
            await stream.run()
        finally:
            self._streams.discard(stream)

    async def _open_subscription(
        self,
        procedure: Procedure[CtxT],
        path: str,
        ctx: Any,
        call: _ParsedCall[CtxT],
    ) -> tuple[AsyncIterator[Any] | None, TrpcError | None]:
        try:
            inp = None
            resume_from = call.resume_from
            if procedure.input_model is not None:
                raw = call.inputs.get(0)
                if resume_from:
                    # tRPC merges the resume point into the input the client sent.
                    if isinstance(raw, dict):
                        raw = {**raw, "lastEventId": resume_from}
                    elif raw is None:
                        raw = {"lastEventId": resume_from}
                inp = procedure.input_model.model_validate(raw)
            source = procedure.handler(ctx, inp)
            if inspect.isawaitable(source):
                source = await source
            if not isinstance(source, AsyncIterator):
                raise TrpcError(
                    "INTERNAL_SERVER_ERROR",
                    f"Subscription {path} did not return an observable or a AsyncGenerator",
                )
            return source, None
        except Exception as exc:
            return None, to_trpc_error(exc, path)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse websockets; when used as the top-level app, close streams on shutdown."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1003})
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return


class _Given:
    """An input given in process (``TrpcEndpoint.call``), read as a request's is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def get(self, index: int) -> Any:
        return self.value


class _ParsedCall(Generic[CtxT]):
    """What one HTTP request asks for: its calls and their pre-context checks."""

    __slots__ = (
        "allow",
        "checks",
        "connection_params",
        "inputs",
        "is_batch",
        "kind",
        "paths",
        "procedures",
        "resume_from",
    )

    def __init__(
        self,
        paths: list[str],
        procedures: list[Procedure[CtxT] | None],
        kind: str | None,
        is_batch: bool,
        inputs: Inputs,
    ) -> None:
        self.paths = paths
        self.procedures = procedures
        self.kind = kind
        self.is_batch = is_batch
        self.inputs = inputs
        self.checks: list[TrpcError | None] = []
        self.allow: bytes | None = None
        self.connection_params: dict[str, str] | None = None
        self.resume_from: str | None = None


def _single_kind(procedures: list[Procedure[Any] | None]) -> str | None:
    """The calls' one procedure type; mixing types is a request-level BAD_REQUEST."""
    kinds: list[str] = []
    for procedure in procedures:
        if procedure is not None and procedure.kind not in kinds:
            kinds.append(procedure.kind)
    if len(kinds) > 1:
        raise TrpcError("BAD_REQUEST", f"Cannot mix procedure types in call: {', '.join(kinds)}")
    return kinds[0] if kinds else None


def _precheck(
    procedure: Procedure[Any] | None, path: str, method: str, is_batch: bool
) -> TrpcError | None:
    """The per-call checks tRPC makes before the context is even looked at."""
    if procedure is None:
        return TrpcError("NOT_FOUND", f'No procedure found on path "{path}"')
    if _ACCEPTED_METHOD[procedure.kind] != method:
        return TrpcError(
            "METHOD_NOT_SUPPORTED",
            f'Unsupported {method}-request to {procedure.kind} procedure at path "{path}"',
        )
    if is_batch and procedure.kind == "subscription":
        return TrpcError("BAD_REQUEST", "Cannot batch subscription calls")
    return None


def _error_item(error: TrpcError, path: str | None, debug: bool) -> bytes:
    return b'{"error":' + dumps_bytes(error_shape(error, path, debug=debug)) + b"}"


def _envelope(error: TrpcError | None, data: Any, path: str, debug: bool) -> tuple[bytes, int]:
    """One call's envelope and HTTP status.

    None is sent as ``"data":null``: Python cannot tell it from "returned nothing", which
    tRPC sends as ``{"result":{}}``; the official client reads both as a nullish value.
    """
    if error is None:
        try:
            return b'{"result":{"data":' + dumps_bytes(data) + b"}}", 200
        except (TypeError, ValueError) as exc:
            error = to_trpc_error(exc, path)
    return _error_item(error, path, debug), error.http_status


async def _send_json(send: Send, status: int, body: bytes, allow: bytes | None = None) -> None:
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def run_to_completion(coroutine: Coroutine[Any, Any, Any], path: str) -> Any:
    """Run a handler coroutine that never suspends to its end on this thread; one that
    does suspend was registered without ``waits=True``, a programming error."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError(f"procedure {path} awaited something: register it with waits=True")
