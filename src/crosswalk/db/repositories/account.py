"""Port: provider accounts, scheduled round-robin."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Account,
    AccountUpdate,
    NewAccount,
    Paged,
    Removal,
)


class AccountRepository(Protocol):
    def create(self, data: NewAccount) -> Account: ...

    def find_by_id(self, id: str) -> Account | None: ...

    def get(self, id: str) -> Account: ...

    def find_all(self) -> list[Account]: ...

    def find_by_provider(self, provider: str) -> list[Account]: ...

    def list_page(
        self,
        *,
        provider: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Account]: ...

    def update(self, id: str, changes: AccountUpdate) -> Account: ...

    def delete(self, id: str) -> Removal: ...

    def find_next_available(self, provider: str, now: datetime | None = None) -> Account | None:
        """Round-robin: the non-exhausted account of ``provider`` used least recently
        (never-used first, then ``sort_order``), stamped ``last_used_at = now`` atomically.
        Accounts whose exhaustion has expired count as available."""
        ...

    def mark_exhausted(self, id: str, until: datetime) -> Account: ...

    def clear_expired_exhaustion(self, now: datetime | None = None) -> list[str]:
        """Un-exhaust every account whose ``exhausted_until`` has passed; returns their
        ids (sorted)."""
        ...
