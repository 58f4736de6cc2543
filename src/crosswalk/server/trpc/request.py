"""Reading a tRPC request off a raw ASGI scope: path, query string, headers, body, inputs.

Hand-rolled rather than through ``starlette.requests.Request`` because this runs on
every call: one pass over the headers, no multidicts, and the inputs are parsed only
when a procedure that declares an input asks for them (as tRPC does: a procedure
without an input model never sees, nor fails on, whatever input was sent).
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Iterable
from typing import Any, Final, NoReturn
from urllib.parse import unquote, unquote_to_bytes

from starlette.types import Receive, Scope

from crosswalk.server.trpc.errors import TrpcError

_MALFORMED_ESCAPE: Final = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_MALFORMED_TEXT_ESCAPE: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_BAD_EVENT_ID: Final = re.compile(r"[\0\r\n]")
_UPLOAD_MEDIA_TYPES: Final = ("multipart/form-data", "application/octet-stream")
_BATCH_INPUT_NOT_OBJECT: Final = '"input" needs to be an object when doing a batch call'
#: How deeply arrays and objects may nest in one call's input. Far beyond what any
#: procedure takes, and far below what decoding, validating or encoding the value
#: recurses through: a deeper input would otherwise end in RecursionError, a 500.
MAX_INPUT_DEPTH: Final = 64
_TOO_DEEP: Final = (
    f"input is nested deeper than {MAX_INPUT_DEPTH} levels of arrays and objects, "
    "the limit; send a flatter input"
)


class ClientDisconnectedError(Exception):
    """The client went away before the request body was complete: nobody to answer."""


def _reject_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON.parse (and so tRPC) does not.
    raise ValueError(f"Unexpected token {name!r}, not valid JSON")


_decode_json: Final = json.JSONDecoder(parse_constant=_reject_constant).decode


_CONTAINERS: Final = (dict, list)


def _too_deep(value: Any) -> bool:
    """Whether arrays and objects nest in ``value`` more than ``MAX_INPUT_DEPTH`` levels
    (``[]`` is one level, a number none); a walk without recursion.

    Each container is visited once, as validating the input will anyway; the usual
    input, an object of plain values, is answered after one look at its values.
    """
    children: Iterable[Any]
    if isinstance(value, dict):
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    for child in children:
        if isinstance(child, _CONTAINERS):
            break
    else:
        return False
    level: list[Any] = [value]  # the containers ``depth`` levels down
    depth = 1
    while level:
        if depth > MAX_INPUT_DEPTH:
            return True
        below: list[Any] = []
        for item in level:
            for child in item.values() if isinstance(item, dict) else item:
                if isinstance(child, _CONTAINERS):
                    below.append(child)
        level = below
        depth += 1
    return False


def decode_procedure_path(scope: Scope) -> str:
    """The percent-decoded path below the mount point (``a.b`` or ``a,b.c``).

    Decoded from ``raw_path`` because the server's own decoding silently keeps
    malformed escapes, and tRPC answers those with 400.
    """
    root_path: str = scope.get("root_path", "")
    raw: bytes | None = scope.get("raw_path")
    if raw is None:  # optional in ASGI; ``path`` is then all there is (already decoded)
        path: str = scope["path"]
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        return path[1:] if path.startswith("/") else path
    depth = root_path.count("/")
    parts = raw.split(b"/", depth + 1)
    encoded = parts[depth + 1] if len(parts) > depth + 1 else b""
    if b"%" not in encoded:
        return encoded.decode("utf-8", "replace")
    try:
        if _MALFORMED_ESCAPE.search(encoded):
            raise ValueError("malformed escape")
        return unquote_to_bytes(encoded).decode("utf-8")
    except ValueError:
        shown = encoded.decode("utf-8", "replace")
        raise TrpcError("BAD_REQUEST", f'Invalid URL-encoding in path "{shown}"') from None


def parse_query(query_string: bytes) -> dict[str, str]:
    """Query parameters, first occurrence wins (``URLSearchParams.get`` semantics)."""
    params: dict[str, str] = {}
    if not query_string:
        return params
    for pair in query_string.decode("utf-8", "replace").split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if name not in params:
            params[name] = unquote_plus(value) if "%" in value or "+" in value else value
    return params


def unquote_plus(text: str) -> str:
    """``urllib.parse.unquote_plus``, in C for what clients send.

    A query's input is percent-encoded JSON (``%7B%22id%22%3A...``), a dozen escapes
    or more, which the standard library decodes in Python, a list append apiece.
    Quoted-printable decoding (``binascii.a2b_qp``) is the same operation with ``=`` in
    place of ``%``, done in C. It is used when that swap cannot change the meaning:
    ASCII text with no ``=`` of its own and no malformed escape. Anything else takes
    the standard library's path, and so does a result that is not UTF-8 (which it
    decodes with replacement characters).
    """
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii() and "=" not in text and _MALFORMED_TEXT_ESCAPE.search(text) is None:
        try:
            return binascii.a2b_qp(text.replace("%", "=")).decode("utf-8")
        except UnicodeDecodeError:
            pass
    return unquote(text)


class RequestHead:
    """The few headers the protocol looks at, read in one pass."""

    __slots__ = ("content_length", "content_type", "last_event_id", "wants_jsonl")

    def __init__(self, scope: Scope) -> None:
        content_type: str | None = None
        content_length: bytes | None = None
        trpc_accept: bytes | None = None
        accept: bytes | None = None
        last_event_id: str | None = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value
            elif name == b"trpc-accept":
                trpc_accept = value
            elif name == b"accept":
                accept = value
            elif name == b"last-event-id":
                last_event_id = value.decode("utf-8", "replace")
        self.content_type = content_type
        self.content_length = content_length
        self.last_event_id = last_event_id
        if trpc_accept is not None:
            self.wants_jsonl = trpc_accept == b"application/jsonl"
        else:
            self.wants_jsonl = accept is not None and any(
                part.strip() == b"application/jsonl" for part in accept.split(b",")
            )


def check_content_type(method: str, content_type: str | None) -> None:
    """Reject what tRPC's content-type handlers reject.

    JSON is always fine; GET accepts any content-type (older clients send JSON on GET).
    Form data and octet streams are tRPC's file uploads, which this server does not
    take: a GET with one is METHOD_NOT_SUPPORTED as in tRPC, a POST is 415.
    """
    if content_type is None:
        if method == "GET":
            return
        raise TrpcError("UNSUPPORTED_MEDIA_TYPE", "Missing content-type header")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        return
    if media in _UPLOAD_MEDIA_TYPES:
        if method != "POST":
            raise TrpcError(
                "METHOD_NOT_SUPPORTED", f"Only POST requests are supported for {media} requests"
            )
    elif method == "GET":
        return
    # sic: tRPC's message has no closing quote
    raise TrpcError("UNSUPPORTED_MEDIA_TYPE", f'Unsupported content-type "{content_type}')


def parse_connection_params(raw: str | None) -> dict[str, str] | None:
    """The ``connectionParams`` query parameter: a JSON object of strings, or null."""
    if raw is None:
        return None
    try:
        parsed = _decode_json(raw)
    except RecursionError:  # an object of strings is one level deep
        raise TrpcError("PARSE_ERROR", "Invalid connection params shape") from None
    except ValueError:
        raise TrpcError("PARSE_ERROR", "Not JSON-parsable query params") from None
    if parsed is None:
        return None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise TrpcError("PARSE_ERROR", "Invalid connection params shape")
    return parsed


def last_event_id(head: RequestHead, params: dict[str, str]) -> str | None:
    """The id an SSE client resumes from: header first, then the query fallbacks."""
    if head.last_event_id is not None:
        return head.last_event_id
    found = params.get("lastEventId")
    return found if found is not None else params.get("Last-Event-Id")


def usable_event_id(event_id: str | None) -> str | None:
    """``event_id`` if it may be echoed in an SSE ``id:`` line, else None."""
    if event_id and not _BAD_EVENT_ID.search(event_id):
        return event_id
    return None


# How much of an oversized body is read and thrown away before the 413 goes out.
# Closing a connection with unread data makes the kernel send a reset, which can
# destroy the 413 response before the client reads it; draining avoids that, up to
# a bound past which a client deserves the reset.
DRAIN_LIMIT_BYTES = 16 << 20


async def read_body(receive: Receive, limit: int, content_length: bytes | None) -> bytes:
    """The whole body, refusing with PAYLOAD_TOO_LARGE once it passes ``limit``.

    The rest of an oversized body is drained (see ``DRAIN_LIMIT_BYTES``) so that the
    client reliably receives the refusal.
    """
    too_large = TrpcError("PAYLOAD_TOO_LARGE", f"Request body is larger than {limit} bytes")
    declared = int(content_length) if content_length and content_length.isdigit() else None
    if declared is not None and declared > DRAIN_LIMIT_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        more = message.get("more_body", False)
        if size > limit or (declared is not None and declared > limit):
            if more:
                await _drain(receive, DRAIN_LIMIT_BYTES - size)
            raise too_large
        chunks.append(chunk)
        if not more:
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def _drain(receive: Receive, budget: int) -> None:
    """Read and discard the rest of the body, up to ``budget`` bytes."""
    while budget > 0:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


class Inputs:
    """The request's raw input(s), parsed on first use and shared by every call.

    A parse failure is remembered and reported to each call that needs an input, with
    that call's path, exactly like tRPC's lazily read inputs. So is an input nested
    deeper than ``MAX_INPUT_DEPTH``: in a batch, by the calls whose input it is.
    """

    __slots__ = ("_error", "_is_batch", "_parsed", "_raw", "_too_deep")

    def __init__(self, raw: str | bytes | None, is_batch: bool) -> None:
        self._raw = raw
        self._is_batch = is_batch
        self._parsed: Any = None
        self._error: str | None = None
        self._too_deep: frozenset[str] = frozenset()  # the batch keys of such inputs

    def get(self, index: int) -> Any:
        """Call ``index``'s input (None when absent); raises BAD_REQUEST if unparsable."""
        if self._raw is not None:
            self._parse()
        if self._error is not None:
            raise TrpcError("BAD_REQUEST", self._error)
        if not self._is_batch or self._parsed is None:
            return self._parsed
        key = str(index)
        if key in self._too_deep:
            raise TrpcError("BAD_REQUEST", _TOO_DEEP)
        return self._parsed.get(key)

    def _parse(self) -> None:
        raw, self._raw = self._raw, None
        if not raw:
            return
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            parsed = _decode_json(text)
        except RecursionError:
            self._error = _TOO_DEEP
            return
        except ValueError as exc:
            self._error = str(exc)
            return
        if self._is_batch and not isinstance(parsed, dict):
            self._error = _BATCH_INPUT_NOT_OBJECT
            return
        # Nesting deeper than the limit takes two brackets a level: shorter text cannot.
        if len(text) > 2 * MAX_INPUT_DEPTH:
            if not self._is_batch:
                if _too_deep(parsed):
                    self._error = _TOO_DEEP
                    return
            else:
                self._too_deep = frozenset(k for k, v in parsed.items() if _too_deep(v))
        self._parsed = parsed
