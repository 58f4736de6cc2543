"""Reading an agent's run files: whole lines of its output from where the log stopped,
the end of its stderr, its exit code.

Each is opened by :func:`open_run_file`, never through a symbolic link: the runner reads
only files it made in the agent's own directory (``docs/security.md``), so a link
planted there, or a directory swapped for one, is refused rather than followed to
someone else's file (another agent's session, the admin token).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from crosswalk.domain.errors import PreconditionFailedError

#: The most read at once; a log chunk holds at most this much.
MAX_READ_BYTES = 256 * 1024

_NO_FOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


class ForeignFileError(PreconditionFailedError):
    """A run file that is not the runner's own: a symbolic link, something other than
    a regular file, or a path outside the agent's directory. It is never read."""


def open_run_file(path: Path) -> BinaryIO:
    """``path`` opened for reading, following no symbolic link: neither the file nor
    its directory may be one. Raises ``FileNotFoundError`` when it does not exist and
    ``ForeignFileError`` when it is not a regular file reached without a link."""
    try:
        directory = os.open(path.parent, _NO_FOLLOW | os.O_DIRECTORY)
    except FileNotFoundError:
        raise
    except OSError as exc:
        reason = exc.strerror
        raise ForeignFileError(
            f"{path.parent} is not a directory of the runner's: {reason}"
        ) from None
    try:
        # O_NONBLOCK: a FIFO planted in its place opens at once instead of hanging.
        fd = os.open(path.name, _NO_FOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ForeignFileError(f"{path} is not a file of the runner's: {exc.strerror}") from None
    finally:
        os.close(directory)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ForeignFileError(f"{path} is not a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_complete_lines(path: Path, offset: int, final: bool) -> tuple[str, int]:
    """The complete lines after byte ``offset`` (up to ``MAX_READ_BYTES``, more only for
    one longer line) and the offset after them. ``final`` (the writer has ended) takes a
    last line without its newline too. ``("", offset)`` when there is nothing new.
    Raises ``ForeignFileError`` for a file that is not the runner's own."""
    try:
        with open_run_file(path) as handle:
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
    """The end of a small text file (stderr), or "" when there is none. Raises
    ``ForeignFileError`` for a file that is not the runner's own."""
    try:
        with open_run_file(path) as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(size - limit, 0))
            return handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
