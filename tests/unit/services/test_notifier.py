"""The in-process notifier: wake-ups are pushed, never lost, and shutdown wakes all."""

from __future__ import annotations

import asyncio

import pytest

from crosswalk.services.notifier import InProcessNotifier

pytestmark = pytest.mark.anyio


async def test_publish_wakes_a_waiter_at_once() -> None:
    notifier = InProcessNotifier()
    async with notifier.subscribe("k") as subscription:
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, notifier.publish, "k")
        started = loop.time()
        assert await subscription.wait(5.0) is True
        assert loop.time() - started < 1.0
    assert notifier.waiting("k") == 0


async def test_a_publish_before_the_wait_is_not_lost() -> None:
    notifier = InProcessNotifier()
    async with notifier.subscribe("k") as subscription:
        notifier.publish("k")
        assert await subscription.wait(0.0) is True


async def test_other_keys_do_not_wake_and_timeout_returns_false() -> None:
    notifier = InProcessNotifier()
    async with notifier.subscribe("k") as subscription:
        notifier.publish("other")
        assert await subscription.wait(0.02) is False


async def test_close_wakes_every_waiter_and_later_waits_return_at_once() -> None:
    notifier = InProcessNotifier()

    async def park(key: str) -> bool:
        async with notifier.subscribe(key) as subscription:
            return await subscription.wait(30.0)

    waiters = [asyncio.create_task(park(f"k{i}")) for i in range(5)]
    await asyncio.sleep(0.01)
    notifier.close()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 2.0) == [False] * 5
    async with notifier.subscribe("late") as subscription:
        assert await subscription.wait(30.0) is False
    assert notifier.closed
