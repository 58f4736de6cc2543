"""A test mode that refuses blocking database calls on a thread running an event loop.

On a network database a synchronous call waits on the network and on locks; made on
the loop's thread it holds up every request and wake-up the server has in flight
(``docs/architecture.md``: such calls go through ``services/offload.py``). The mode
(``CW_FORBID_LOOP_DB=1``, read when the engine is created) makes such a call raise
:class:`BlockingCallOnLoopError`, naming the statement and the code that made it, and
logs the same line on ``crosswalk.db.loop_guard`` at ERROR, so a call whose exception
a background loop swallows is still seen (the tests fail on that line).

It watches the synchronous engine only: a connection's checkout from the pool (the
hot path's statements run on the driver connection it hands out) and every statement
SQLAlchemy executes. A driver made for the loop (an async dialect, whose calls yield to
the loop instead of blocking it) is left alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import sysconfig
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

ENV = "CW_FORBID_LOOP_DB"
logger = logging.getLogger("crosswalk.db.loop_guard")
_PACKAGE = Path(__file__).resolve().parents[1]  # the crosswalk package
_DATABASE_LAYER = str(Path(__file__).resolve().parent)
# Frames not worth naming outside crosswalk: the standard library, the dependencies.
_LIBRARIES = tuple({*sysconfig.get_paths().values(), sys.prefix})


class BlockingCallOnLoopError(RuntimeError):
    """A blocking database call on the event loop's thread (test mode only)."""


def forbidden_by_env() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


def forbid_blocking_calls_on_loop(engine: Engine) -> None:
    """Make ``engine``'s blocking calls on a thread running an event loop raise."""
    if engine.dialect.is_async:
        return

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        _refuse_on_loop("connection checkout")

    @event.listens_for(engine, "before_cursor_execute")
    def _execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        _refuse_on_loop(" ".join(statement.split())[:200])


def _refuse_on_loop(what: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # no loop on this thread: a worker thread, or a plain script
    message = f"blocking database call on the event loop thread: {what} (from {_caller()})"
    logger.error(message)
    raise BlockingCallOnLoopError(message)


def _caller() -> str:
    """The innermost frames that led to the call, above the database layer and outside
    the interpreter's and the dependencies' own files: the code to move off the loop."""
    frames = [
        f"{_short(frame.filename)}:{frame.lineno} {frame.name}"
        for frame in traceback.extract_stack()
        if _named(frame.filename)
    ]
    return " <- ".join(reversed(frames[-4:])) or "unknown code"


def _short(filename: str) -> str:
    path = Path(filename)
    return str(path.relative_to(_PACKAGE.parent)) if path.is_relative_to(_PACKAGE) else filename


def _named(filename: str) -> bool:
    if filename.startswith(str(_PACKAGE)):
        return not filename.startswith(_DATABASE_LAYER)
    return not filename.startswith(_LIBRARIES)
