"""Identifiers: nanoid-compatible (21 characters of the URL-safe alphabet).

Standard library only, and light (``os.urandom`` is what ``secrets`` uses): the `cw`
client imports this to make ids for idempotent asks.
"""

from __future__ import annotations

import os

ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"
ID_LENGTH = 21


def new_id() -> str:
    """A fresh random id, like ``nanoid()``, that never starts with ``-`` or ``_``.

    A leading ``-`` would make ``cw answer ID`` read the id as an option; skipping
    those first characters costs under 2 of ~126 bits of entropy.
    """
    while True:
        # 64 symbols: each random byte's low 6 bits pick one uniformly.
        candidate = "".join(ALPHABET[b & 63] for b in os.urandom(ID_LENGTH))
        if candidate[0] not in "-_":
            return candidate
