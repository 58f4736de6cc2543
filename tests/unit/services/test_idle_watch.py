"""Agents registered by hand go idle when their hooks go quiet (``IdleWatch``), with the
in-memory fakes and a fake clock that the tests move forward."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crosswalk.domain.enums import AgentStatus
from crosswalk.services.agents import AgentService
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.check_in import Activity, CheckInService
from crosswalk.services.idle_watch import IdleWatch
from tests.unit.services.fake_clock import FakeClock, turns
from tests.unit.services.fakes import (
    FakeAgents,
    FakeAnswerDeliveries,
    FakeConversations,
    FakeMessages,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)

AFTER_S = 300.0


class World:
    def __init__(self) -> None:
        self.changes = ChangeStream()
        units = FakeUnitsOfWork(self.changes)
        self.agents = FakeAgents(
            make_agent("quiet"),
            make_agent("busy"),
            replace(make_agent("spawned"), process_started_at=123, pid=9),
            make_agent("resting", status=AgentStatus.IDLE),
        )
        conversations = FakeConversations()
        self.service = AgentService(
            agents=self.agents,
            tasks=FakeTasks(),
            messages=FakeMessages(),
            conversations=conversations,
            unit_of_work=units,
        )
        self.clock = FakeClock()
        self.watch = IdleWatch(
            agents=self.service,
            repository=self.agents,
            changes=self.changes,
            after_s=AFTER_S,
            clock=self.clock,
        )
        self.check_in = CheckInService(
            agents=self.service,
            tasks=FakeTasks(),
            conversations=conversations,
            answer_deliveries=FakeAnswerDeliveries(conversations),
            messages=FakeMessages(),
            unit_of_work=units,
            on_activity=self.watch.seen,
        )

    def status(self, agent_id: str) -> AgentStatus:
        return self.agents.get(agent_id).status

    async def pass_time(self, seconds: float) -> None:
        """``seconds`` go by; the watch does what fell due and waits again."""
        await turns()
        self.clock.advance(seconds)
        await turns()


async def test_a_hand_registered_agent_whose_hooks_go_quiet_becomes_idle() -> None:
    world = World()
    await world.watch.start()
    try:
        for _ in range(15):  # busy keeps working: each tool call is seen
            world.check_in.check_in("busy", Activity.TOOL)
            await world.pass_time(AFTER_S / 10)
        assert world.status("quiet") is AgentStatus.IDLE  # nothing since the start
        assert world.status("busy") is AgentStatus.RUNNING
        assert world.status("spawned") is AgentStatus.RUNNING  # the runner's to decide
        await world.pass_time(AFTER_S * 1.5)
        assert world.status("busy") is AgentStatus.IDLE
    finally:
        await world.watch.close()


async def test_a_status_moving_to_running_is_watched_from_then_on() -> None:
    world = World()
    await world.watch.start()
    try:
        world.service.update("resting", {"status": AgentStatus.RUNNING})  # e.g. a reply came
        await world.pass_time(AFTER_S / 2)
        assert world.status("resting") is AgentStatus.RUNNING
        await world.pass_time(AFTER_S * 1.5)
        assert world.status("resting") is AgentStatus.IDLE
    finally:
        await world.watch.close()


pytestmark = pytest.mark.anyio
