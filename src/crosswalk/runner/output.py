"""Reading an agent's output file: whole lines only, from where the log stopped."""

from __future__ import annotations

from pathlib import Path

#: The most read at once; a log chunk holds at most this much.
MAX_READ_BYTES = 256 * 1024


def read_complete_lines(path: Path, offset: int, final: bool) -> tuple[str, int]:
    """The complete lines after byte ``offset`` (up to ``MAX_READ_BYTES``, more only for
    one longer line) and the offset after them. ``final`` (the writer has ended) takes a
    last line without its newline too. ``("", offset)`` when there is nothing new."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read(MAX_READ_BYTES)
            # One line longer than a read: read on to its end.
            while not final and data and b"\n" not in data and len(data) % MAX_READ_BYTES == 0:
                more = handle.read(MAX_READ_BYTES)
                if not more:
                    break
                data += more
    except FileNotFoundError:
        return "", offset
    at_end = len(data) < MAX_READ_BYTES
    last_newline = data.rfind(b"\n")
    if final and (at_end or last_newline < 0):
        pass  # everything: the writer is gone, a last line without newline counts
    elif last_newline >= 0:
        data = data[: last_newline + 1]
    else:
        return "", offset
    return data.decode("utf-8", "replace"), offset + len(data)


def tail_text(path: Path, limit: int = 2000) -> str:
    """The end of a small text file (stderr), or "" when there is none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - limit, 0))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
