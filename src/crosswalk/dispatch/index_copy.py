"""A private copy of a worktree's index, so an agent's files can be staged and read
without touching the index the agent itself works with.

The copy keeps the index's modification time. Git trusts a file's stat data only when
the file is older than the index; a file changed in the same clock tick as the index
was written ("racy git") has its contents compared instead. A copy stamped now would
make every such file look older than its index, and an edit that kept the file's size
would go unseen.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def index_copy(index: Path) -> Iterator[dict[str, str]]:
    """The environment that points git at a copy of ``index`` (an empty index when
    there is none), removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="cw-index-") as scratch:
        copy = Path(scratch) / "index"
        if index.is_file():
            shutil.copy2(index, copy)
        yield {"GIT_INDEX_FILE": str(copy)}
