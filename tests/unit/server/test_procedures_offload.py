"""On PostgreSQL every query and mutation that does not wait runs on a worker thread,
driven to completion there without an event loop: one that awaits anything must be
registered with ``waits=True`` (it then runs on the loop and offloads its reads)."""

from __future__ import annotations

import inspect
from collections.abc import Generator

import pytest

from crosswalk.server.app import build_router
from crosswalk.server.trpc.endpoint import run_to_completion


def test_every_procedure_that_awaits_is_registered_as_waiting() -> None:
    unmarked = [
        procedure.path
        for procedure in build_router()
        if procedure.kind != "subscription"
        and not procedure.waits
        and ("await " in inspect.getsource(procedure.handler))
    ]
    assert unmarked == []


def test_a_handler_that_suspends_is_refused_with_its_path() -> None:
    async def suspends() -> None:
        await _Suspend()

    with pytest.raises(RuntimeError, match=r"procedure demo.wait awaited .* waits=True"):
        run_to_completion(suspends(), "demo.wait")


def test_a_handler_that_never_suspends_returns_its_value() -> None:
    async def returns() -> int:
        return 42

    assert run_to_completion(returns(), "demo.value") == 42


class _Suspend:
    def __await__(self) -> Generator[None, None, None]:
        yield None
