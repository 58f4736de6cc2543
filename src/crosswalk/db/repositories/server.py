"""Port: the deployment's servers (their heartbeats) and where dispatch placed agents."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crosswalk.domain.rows import Placement, Server, ServerLoad


class ServerRepository(Protocol):
    def register(self, id: str, url: str, capacity: int, worker: bool) -> Server:
        """Insert or replace server ``id``'s row, started and heartbeating now, holding
        its lease (``lease_lost_at`` cleared)."""
        ...

    def heartbeat(self, id: str) -> Server | None:
        """Stamp ``heartbeat_at`` now; the row as it is then (None: no such server)."""
        ...

    def find_with_load(self) -> list[ServerLoad]:
        """Every server with its load (live agents it runs plus placements on it), by id."""
        ...

    def take_lease(self, id: str, cutoff: datetime) -> Server | None:
        """Mark ``id`` as having lost its lease, in one conditional UPDATE: only when its
        heartbeat is older than ``cutoff`` and nobody marked it yet. The row when this
        call marked it, else None (it is alive, or another server took it)."""
        ...

    def place(self, task_id: str, server_id: str, provider: str | None) -> Placement:
        """Place the agent of ``task_id`` on ``server_id`` (replacing an older placement)."""
        ...

    def claim(self, task_id: str, server_id: str) -> Placement | None:
        """Take the placement for ``server_id``, in one conditional UPDATE: None when it is
        not placed there, or already claimed."""
        ...

    def find_unclaimed(self, server_id: str) -> list[Placement]:
        """Placements on ``server_id`` not yet claimed, oldest first."""
        ...

    def find_by_server(self, server_id: str) -> list[Placement]:
        """Every placement on ``server_id``, claimed or not."""
        ...

    def remove_placement(self, task_id: str) -> None:
        """Forget the task's placement (its agent started, or could not)."""
        ...
