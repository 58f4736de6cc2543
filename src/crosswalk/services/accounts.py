"""Provider accounts: the round-robin pool agents draw from. Every write runs in a unit
of work and records ``EntityChanged("account", ...)`` (``id`` ``*`` when a write touched
several rows at once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crosswalk.db.repositories import AccountRepository
from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Account, AccountUpdate, NewAccount, Removal
from crosswalk.services.unit_of_work import UnitOfWorkFactory


@dataclass(slots=True)
class AccountService:
    accounts: AccountRepository
    unit_of_work: UnitOfWorkFactory

    def create(self, data: NewAccount) -> Account:
        with self.unit_of_work() as uow:
            account = self.accounts.create(data)
            uow.record(EntityChanged("account", account.id, Action.CREATED))
        return account

    def update(self, id: str, changes: AccountUpdate) -> Account:
        with self.unit_of_work() as uow:
            account = self.accounts.update(id, changes)
            uow.record(EntityChanged("account", id, Action.UPDATED))
        return account

    def delete(self, id: str) -> tuple[Account, Removal]:
        with self.unit_of_work() as uow:
            account = self.accounts.get(id)
            removed = self.accounts.delete(id)
            uow.record(EntityChanged("account", id, Action.DELETED))
        return account, removed

    def next_available(self, provider: str, now: datetime | None = None) -> Account | None:
        """The provider's available account used least recently, stamped as used now
        (``now``: the caller's clock, e.g. the runner's)."""
        with self.unit_of_work() as uow:
            account = self.accounts.find_next_available(provider, now)
            if account is not None:
                uow.record(EntityChanged("account", account.id, Action.UPDATED))
        return account

    def mark_exhausted(self, id: str, until: datetime) -> Account:
        with self.unit_of_work() as uow:
            account = self.accounts.mark_exhausted(id, until)
            uow.record(EntityChanged("account", id, Action.UPDATED))
        return account

    def clear_expired(self, now: datetime | None = None) -> int:
        """Un-exhaust every account whose exhaustion has expired by ``now`` (the caller's
        clock, e.g. the runner's; default the database's) with an event for each;
        returns how many."""
        with self.unit_of_work() as uow:
            cleared = self.accounts.clear_expired_exhaustion(now)
            uow.record(*(EntityChanged("account", id, Action.UPDATED) for id in cleared))
        return len(cleared)
