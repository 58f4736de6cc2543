"""Text from the server made safe to show: control characters a terminal (or a model
reading a hook's context) would act on become visible escapes, and another agent's text
is quoted so that it cannot pass for crosswalk's own (docs/hooks.md).

A leaf importing nothing: ``cw hook`` needs it whenever it shows a question and imports
as little as it can, the runner quotes questions the same way in the prompt that
resumes an agent to answer them, and the server's MCP tools show another agent's text
the same way (docs/mcp.md).
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


def one_line(value: object) -> str:
    """A name or id for a header line: one line, control characters made visible."""
    return visible(str(value)).replace("\n", " ").replace("\t", " ")


def fenced(text: str) -> str:
    """``text`` (another agent's) in a fenced block it cannot close, its control and
    bidirectional characters made visible (``\\x1b``, ``\\u202e``).

    The fence is one backtick longer than the longest run of backticks in the text (and
    at least three), and a fence closes only on a line of at least its own length: no
    line of the text can end the block early and speak as crosswalk after it.
    """
    shown = visible(text)
    longest = run = 0
    for char in shown:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{shown}\n{fence}"
