"""Identifiers: nanoid-compatible (21 characters of the URL-safe alphabet).

Standard library only, and light (``os.urandom`` is what ``secrets`` uses): the `cw`
client imports this to make ids for idempotent asks.
"""

from __future__ import annotations

import os

ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
ID_LENGTH = 21
# Each random byte's low 6 bits pick one of the 64 symbols uniformly: one table lookup
# per byte in C (``bytes.translate``), not a Python-level join.
_SYMBOL_OF_BYTE = bytes(ord(ALPHABET[b & 63]) for b in range(256))


def new_id() -> str:
    """A fresh random id, like ``nanoid()``, that never starts with ``-`` or ``_``.

    A leading ``-`` would make ``cw answer ID`` read the id as an option; skipping
    those first characters costs under 2 of ~126 bits of entropy.
    """
    while True:
        candidate = os.urandom(ID_LENGTH).translate(_SYMBOL_OF_BYTE).decode("ascii")
        if candidate[0] not in "-_":
            return candidate
