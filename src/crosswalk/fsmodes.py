"""Files only their owner may read: the data directory (0700) and what is in it (0600).

Everything crosswalk keeps on disk can hold a secret or a question an agent asked in
confidence: the database and its WAL/SHM files, the admin token, the secret key, logs
and output files. Each is created private, and one found looser (made by an older
version, or copied with ``cp``) is tightened with a warning naming it. Standard
library only.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

logger = logging.getLogger("crosswalk.files")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def tighten(path: Path, mode: int) -> bool:
    """Clear every permission bit of ``path`` beyond ``mode``; True if it had to.

    A file this user does not own is left as it is (chmod would fail) with a warning."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return False
    if current & ~mode == 0:
        return False
    try:
        path.chmod(current & mode)
    except PermissionError:
        logger.warning(
            "%s is readable by others (mode %o) and not ours to change: fix with chmod %o",
            path,
            current,
            mode,
        )
        return False
    logger.warning(
        "%s was readable by others (mode %o); tightened to %o", path, current, current & mode
    )
    return True


def private_dir(path: Path) -> Path:
    """``path`` as an existing directory only its owner can enter: created 0700, as is
    every missing directory above it (``mkdir -p`` would make those by the umask)."""
    missing = []
    parent = path
    while not parent.exists() and parent != parent.parent:
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        directory.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        directory.chmod(PRIVATE_DIR)  # exactly 0700, whatever the umask
    tighten(path, PRIVATE_DIR)
    return path


def open_private_append(path: Path) -> BinaryIO:
    """``path`` opened for appending, created 0600 if missing; a symbolic link in its
    place is refused (``OSError``), so nothing is written through one."""
    fd = os.open(
        path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, PRIVATE_FILE
    )
    return os.fdopen(fd, "ab")


def private_file(path: Path) -> Path:
    """``path`` as an existing file only its owner can read (created empty, 0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
    os.close(fd)
    tighten(path, PRIVATE_FILE)
    return path


def sqlite_files(database: Path) -> list[Path]:
    """The database file and the WAL and shared-memory files SQLite keeps beside it."""
    return [
        database,
        database.with_name(database.name + "-wal"),
        database.with_name(database.name + "-shm"),
    ]
