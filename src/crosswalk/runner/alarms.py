"""Alarms: one per agent waiting for an account, ringing when the earliest exhaustion
of its provider's accounts expires (to resume its work, or to answer questions).
Re-arming replaces; cancelling forgets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

Sleep = Callable[[float], Awaitable[None]]


class Alarms:
    def __init__(
        self,
        ring: Callable[[str], Awaitable[None]],
        now: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._ring = ring
        self._now = now
        self._sleep = sleep
        self._pending: dict[str, asyncio.Task[None]] = {}

    def arm(self, agent_id: str, at: datetime) -> None:
        self.cancel(agent_id)
        self._pending[agent_id] = asyncio.get_running_loop().create_task(
            self._wait(agent_id, at), name=f"alarm for agent {agent_id}"
        )

    def armed(self, agent_id: str) -> bool:
        return agent_id in self._pending

    def cancel(self, agent_id: str) -> None:
        alarm = self._pending.pop(agent_id, None)
        if alarm is not None and alarm is not asyncio.current_task():
            alarm.cancel()

    async def close(self) -> None:
        alarms = list(self._pending.values())
        self._pending.clear()
        for alarm in alarms:
            alarm.cancel()
        await asyncio.gather(*alarms, return_exceptions=True)

    async def _wait(self, agent_id: str, at: datetime) -> None:
        await self._sleep(max((at - self._now()).total_seconds(), 0.0))
        if self._pending.get(agent_id) is asyncio.current_task():
            del self._pending[agent_id]
        await self._ring(agent_id)
