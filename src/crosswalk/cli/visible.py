"""Text from the server made safe to show: control characters a terminal (or a model
reading a hook's context) would act on become visible escapes.

Its own module, importing nothing, because ``cw hook`` needs it whenever it shows a
question and imports as little as it can (``output`` is the rest of ``cw``'s display).
"""

from __future__ import annotations

# Control characters a terminal would act on (cursor moves, screen clears, title
# changes, hyperlinks, bidirectional overrides), each mapped to a visible escape.
# Newline and tab stay: they are how multi-line answers and tables read.
_CONTROLS = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_VISIBLE = str.maketrans({c: f"\\x{c:02x}" for c in _CONTROLS} | {c: f"\\u{c:04x}" for c in _BIDI})


def visible(text: str) -> str:
    """``text`` safe to write to a terminal: control characters from the server (text
    an agent wrote) shown as ``\\x1b``-style escapes instead of being obeyed."""
    return text.translate(_VISIBLE)
