"""Identifiers: nanoid-compatible (21 characters of the URL-safe alphabet)."""

from __future__ import annotations

import secrets

_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
ID_LENGTH = 21


def new_id() -> str:
    """A fresh random id, 126 bits of entropy, like ``nanoid()``."""
    # 64 symbols: each random byte's low 6 bits pick one uniformly.
    return "".join(_ALPHABET[b & 63] for b in secrets.token_bytes(ID_LENGTH))
