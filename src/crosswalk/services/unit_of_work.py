"""The unit-of-work port: what a service opens around each change it makes.

``crosswalk.db.unit_of_work.SqlAlchemyUnitOfWork`` is the adapter; tests use
``tests/unit/services/fakes.FakeUnitOfWork``. A service writes only inside one::

    with self.unit_of_work() as uow:
        row = self.tasks.update(...)
        uow.record(EntityChanged("task", row.id, Action.UPDATED))

Every repository call inside the block (on the same thread) joins its transaction;
the block commits when it ends and only then are the recorded events published. An
exception rolls everything back and nobody hears of it. Reads that change nothing
may run outside any unit of work.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from crosswalk.domain.events import Event


class UnitOfWork(Protocol):
    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    def record(self, *events: Event) -> None:
        """Publish these events once the transaction commits (never if it rolls back)."""
        ...


#: Makes a fresh unit of work; services hold one and call it for each change.
UnitOfWorkFactory = Callable[[], UnitOfWork]
