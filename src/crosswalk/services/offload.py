"""Where blocking database work runs, so it never holds up the event loop.

The repositories are synchronous. On a local SQLite file a call takes microseconds
and runs inline, on the loop (a thread hop would cost more than the query). On a
network database (PostgreSQL) a call waits on the network and on locks, and one
slow query inline would delay every other request's wake-up; there each call runs
on a worker thread (``CW_DB_THREADS``: by default twice the CPUs, at most the
connection pool's size; more threads per core cost more in switching), and the loop
only awaits it. The composition root picks one :class:`Offload` per process.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, Protocol, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Offload(Protocol):
    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``'s result, computed where blocking does no harm."""
        ...

    @property
    def inline(self) -> bool:
        """True when calls run on the caller's thread (nothing to hand over)."""
        ...

    def close(self) -> None: ...


class InlineOffload:
    """Runs each call at once on the loop: for SQLite and for tests."""

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return fn(*args, **kwargs)

    @property
    def inline(self) -> bool:
        return True

    def close(self) -> None:
        pass


class ThreadOffload:
    """Runs each call on one of ``workers`` threads named ``crosswalk-db-N``."""

    def __init__(self, workers: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="crosswalk-db")

    async def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    @property
    def inline(self) -> bool:
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
