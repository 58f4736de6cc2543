"""The rule of an account's exhaustion, shared by the runner, the dashboard and the fakes."""

from __future__ import annotations

from datetime import datetime

from crosswalk.domain.rows import Account


def is_exhausted(account: Account, now: datetime) -> bool:
    """Whether ``account`` is exhausted at ``now``: marked so, with no end given or an
    end still to come. Once its end has passed it may be used again (the database's
    ``next_available`` and ``clear_expired_exhaustion`` apply the same rule in SQL)."""
    return account.is_exhausted and (
        account.exhausted_until is None or account.exhausted_until > now
    )
