"""The change stream: wake-ups by key are pushed, never lost; followers see every
committed event in order; shutdown ends everything."""

from __future__ import annotations

import asyncio
import threading
from contextlib import aclosing

import pytest

from crosswalk.domain.events import (
    Action,
    EntityChanged,
    Event,
    QuestionAnswered,
    QuestionAsked,
    answer_key,
    question_key,
)
from crosswalk.services.change_stream import ChangeStream, Subscription
from tests.unit.services.fake_clock import FakeClock, until

pytestmark = pytest.mark.anyio

ASKED = QuestionAsked("c1", "alice", "bob")
ANSWERED = QuestionAnswered("c1", "alice", "bob")


async def test_an_event_wakes_a_waiter_on_its_key_at_once() -> None:
    stream = ChangeStream(FakeClock())  # time stands still: only the event can wake it
    async with stream.subscribe(answer_key("c1")) as subscription:
        asyncio.get_running_loop().call_soon(stream.publish_committed, [ANSWERED])
        assert await subscription.wait(5.0) is True
        assert subscription.received == [ANSWERED]
    assert stream.waiting(answer_key("c1")) == 0


async def test_an_event_before_the_wait_is_not_lost() -> None:
    stream = ChangeStream()
    async with stream.subscribe(question_key("bob")) as subscription:
        stream.publish_committed([ASKED])
        assert await subscription.wait(0.0) is True


async def test_other_keys_do_not_wake_and_timeout_returns_false() -> None:
    clock = FakeClock()
    stream = ChangeStream(clock)
    async with stream.subscribe(question_key("alice")) as subscription:
        stream.publish_committed([ASKED, ANSWERED])  # bob's question, c1's answer
        waiting = asyncio.create_task(subscription.wait(20))
        await until(lambda: clock.waiting == 1)
        clock.advance(20)
        assert await waiting is False
        assert subscription.received == []


async def test_one_subscription_wakes_on_any_of_its_keys() -> None:
    stream = ChangeStream()
    deleted = EntityChanged("agent", "bob", Action.DELETED)
    async with stream.subscribe(question_key("bob"), "agent:bob") as subscription:
        stream.publish_committed([deleted])
        assert await subscription.wait(1.0) is True
        assert subscription.received == [deleted]


async def test_close_wakes_every_waiter_and_later_waits_return_at_once() -> None:
    stream = ChangeStream()

    async def park(key: str) -> bool:
        async with stream.subscribe(key) as subscription:
            return await subscription.wait(30.0)

    waiters = [asyncio.create_task(park(f"k{i}")) for i in range(5)]
    await until(lambda: all(stream.waiting(f"k{i}") == 1 for i in range(5)))
    stream.close()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 2.0) == [False] * 5
    async with stream.subscribe("late") as subscription:
        assert await subscription.wait(30.0) is False
    assert stream.closed


async def test_a_follower_sees_every_event_its_filter_keeps_in_commit_order() -> None:
    stream = ChangeStream()
    created = EntityChanged("task", "t1", Action.CREATED)
    seen: list[Event] = []

    async def follow() -> None:
        async with stream.follow(lambda e: not isinstance(e, EntityChanged)) as follower:
            async for event in follower:
                seen.append(event)

    following = asyncio.create_task(follow())
    await until(lambda: bool(stream._followers))
    stream.publish_committed([ASKED, created])
    stream.publish_committed([ANSWERED])
    await until(lambda: len(seen) == 2)
    stream.close()
    await asyncio.wait_for(following, 2.0)
    assert seen == [ASKED, ANSWERED]


async def test_a_follower_that_falls_behind_is_dropped_not_grown() -> None:
    stream = ChangeStream()
    async with stream.follow(max_backlog=3) as follower:
        stream.publish_committed([ASKED] * 5)
        assert follower.lagged
        assert [event async for event in follower] == []


async def test_events_published_from_another_thread_arrive_on_the_loop() -> None:
    stream = ChangeStream()
    async with stream.subscribe(answer_key("c1")) as subscription:
        thread = threading.Thread(target=stream.publish_committed, args=([ANSWERED],))
        thread.start()
        assert await subscription.wait(5.0) is True
        thread.join()
        assert subscription.received == [ANSWERED]


# --- the one wait helper: wait_until (long polls) and watch (streams) ------------------


async def test_wait_until_returns_the_first_read_that_is_done() -> None:
    clock = FakeClock()
    stream = ChangeStream(clock)
    reads: list[list[Event]] = []

    async def read(subscription: Subscription) -> int:
        reads.append(list(subscription.received))
        return len(reads)

    waiting = asyncio.create_task(
        stream.wait_until([answer_key("c1")], read, done=lambda n: n >= 2, timeout_s=30)
    )
    await until(lambda: stream.waiting(answer_key("c1")) == 1 and len(reads) == 1)
    stream.publish_committed([ASKED])  # another key: no read
    stream.publish_committed([ANSWERED])
    assert await waiting == 2
    assert reads == [[], [ANSWERED]]
    assert stream.waiting(answer_key("c1")) == 0


async def test_wait_until_subscribes_before_the_first_read_so_no_wake_up_is_lost() -> None:
    stream = ChangeStream(FakeClock())
    reads = 0

    async def read(_: Subscription) -> int:
        nonlocal reads
        reads += 1
        if reads == 1:  # the change commits while the first read runs
            stream.publish_committed([ANSWERED])
        return reads

    assert await stream.wait_until([answer_key("c1")], read, done=lambda n: n == 2, timeout_s=30)


async def test_wait_until_gives_the_last_read_when_the_time_is_up() -> None:
    clock = FakeClock()
    stream = ChangeStream(clock)
    reads = 0

    async def read(_: Subscription) -> int:
        nonlocal reads
        reads += 1
        return reads

    waiting = asyncio.create_task(
        stream.wait_until([answer_key("c1")], read, done=lambda _: False, timeout_s=30)
    )
    await until(lambda: clock.waiting == 1)
    clock.advance(29)
    await until(lambda: not waiting.done() and clock.waiting == 1)
    assert reads == 1
    clock.advance(1)
    assert await waiting == 2  # read once more at the deadline, then given


async def test_watch_yields_each_read_until_the_stream_closes_and_leaves_no_subscriber() -> None:
    stream = ChangeStream(FakeClock())
    reads = 0

    async def read(_: Subscription) -> int:
        nonlocal reads
        reads += 1
        return reads

    async def collect() -> list[int]:
        seen = []
        async with aclosing(stream.watch([question_key("bob")], read)) as reads_:
            async for n in reads_:
                seen.append(n)
                if n == 2:
                    stream.close()
        return seen

    watching = asyncio.create_task(collect())
    await until(lambda: reads == 1)
    stream.publish_committed([ASKED])
    assert await watching == [1, 2]
    assert stream.waiting(question_key("bob")) == 0

    async with aclosing(ChangeStream().watch(["k"], read)) as left_early:
        async for _ in left_early:
            break
