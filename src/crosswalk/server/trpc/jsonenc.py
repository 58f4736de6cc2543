"""JSON output the way ``JSON.stringify`` writes it: compact, UTF-8, no ASCII escaping.

One module-level encoder, so no per-call encoder construction on the hot path.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel


def _default(value: object) -> Any:
    # Convenience for handlers that return a pydantic model; only reached for types the
    # C encoder does not know, so plain dict/list results never pay for it.
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode_utf8: Final = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default
).encode
_encode_ascii: Final = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=_default
).encode


def dumps(value: Any) -> str:
    """Compact JSON text; raises TypeError/ValueError for values JSON cannot hold."""
    return _encode_utf8(value)


def dumps_bytes(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes; lone surrogates fall back to ``\\uXXXX`` escapes."""
    text = _encode_utf8(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _encode_ascii(value).encode("ascii")
