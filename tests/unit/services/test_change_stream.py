"""The change stream: wake-ups by key are pushed, never lost; followers see every
committed event in order; shutdown ends everything."""

from __future__ import annotations

import asyncio
import threading

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
from crosswalk.services.change_stream import ChangeStream

pytestmark = pytest.mark.anyio

ASKED = QuestionAsked("c1", "alice", "bob")
ANSWERED = QuestionAnswered("c1", "alice", "bob")


async def test_an_event_wakes_a_waiter_on_its_key_at_once() -> None:
    stream = ChangeStream()
    async with stream.subscribe(answer_key("c1")) as subscription:
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, stream.publish_committed, [ANSWERED])
        started = loop.time()
        assert await subscription.wait(5.0) is True
        assert loop.time() - started < 1.0
        assert subscription.received == [ANSWERED]
    assert stream.waiting(answer_key("c1")) == 0


async def test_an_event_before_the_wait_is_not_lost() -> None:
    stream = ChangeStream()
    async with stream.subscribe(question_key("bob")) as subscription:
        stream.publish_committed([ASKED])
        assert await subscription.wait(0.0) is True


async def test_other_keys_do_not_wake_and_timeout_returns_false() -> None:
    stream = ChangeStream()
    async with stream.subscribe(question_key("alice")) as subscription:
        stream.publish_committed([ASKED, ANSWERED])  # bob's question, c1's answer
        assert await subscription.wait(0.02) is False
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
    await asyncio.sleep(0.01)
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
    await asyncio.sleep(0.01)
    stream.publish_committed([ASKED, created])
    stream.publish_committed([ANSWERED])
    await asyncio.sleep(0.01)
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
