"""Adapter: provider accounts, handed out round-robin.

``find_next_available`` chooses and stamps an account in one write transaction
(``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` elsewhere), so two agents
spawning at the same moment never get the same "least recently used" account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Text,
    and_,
    column,
    false,
    func,
    insert,
    or_,
    select,
    table,
    true,
    update,
)
from sqlalchemy import delete as sql_delete

from crosswalk.db.encryption import SecretBox
from crosswalk.db.repositories.sqlalchemy._base import (
    SqlAlchemyRepository,
    checked_changes,
    columns_for,
    paginate,
    serialize_on,
)
from crosswalk.db.schema import accounts, agents
from crosswalk.domain.rows import (
    DEFAULT_PAGE_SIZE,
    Account,
    AccountUpdate,
    NewAccount,
    Paged,
    Removal,
)
from crosswalk.ids import new_id

_COLUMNS = columns_for(accounts, Account)
_SELECT = select(*_COLUMNS)
_c = accounts.c
_IN_SORT_ORDER = (_c.sort_order, _c.created_at, _c.id)
# Never-used accounts first (in their configured order), then the one whose last
# use lies furthest back: that spreads load evenly over the accounts.
_ROUND_ROBIN = (_c.last_used_at.asc().nulls_first(), *_IN_SORT_ORDER)


def _available(now: datetime) -> ColumnElement[bool]:
    """Not exhausted, or exhausted only until a moment that has passed."""
    return or_(
        _c.is_exhausted == false(),
        and_(_c.exhausted_until.is_not(None), _c.exhausted_until <= now),
    )


def _expired(now: datetime) -> ColumnElement[bool]:
    return and_(
        _c.is_exhausted == true(), _c.exhausted_until.is_not(None), _c.exhausted_until <= now
    )


class SqlAlchemyAccountRepository(SqlAlchemyRepository):
    kind = "account"

    def create(self, data: NewAccount) -> Account:
        now = self._clock.now()
        values = {
            "id": new_id(),
            "email": data.email,
            "provider": data.provider,
            "config_json": data.config_json,
            "credentials": data.credentials,
            "sort_order": data.sort_order,
            "created_at": now,
            "updated_at": now,
        }
        with self._write() as conn:
            row = conn.execute(insert(accounts).values(values).returning(*_COLUMNS)).one()
        return Account(*row)

    def find_by_id(self, id: str) -> Account | None:
        with self._read() as conn:
            row = conn.execute(_SELECT.where(_c.id == id)).first()
        return None if row is None else Account(*row)

    def get(self, id: str) -> Account:
        found = self.find_by_id(id)
        if found is None:
            raise self._not_found(id)
        return found

    def find_all(self) -> list[Account]:
        return self._all(_SELECT.order_by(*_IN_SORT_ORDER))

    def find_by_provider(self, provider: str) -> list[Account]:
        return self._all(_SELECT.where(_c.provider == provider).order_by(*_IN_SORT_ORDER))

    def list_page(
        self,
        *,
        provider: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Paged[Account]:
        query = _SELECT if provider is None else _SELECT.where(_c.provider == provider)
        with self._read() as conn:
            return paginate(conn, query, accounts, Account, limit=limit, cursor=cursor)

    def update(self, id: str, changes: AccountUpdate) -> Account:
        values = checked_changes(self.kind, changes, AccountUpdate)
        if not values:
            return self.get(id)
        with self._write() as conn:
            return self._update_row(conn, accounts, Account, id, values)

    def delete(self, id: str) -> Removal:
        with self._write() as conn:
            if conn.execute(select(_c.id).where(_c.id == id)).first() is None:
                raise self._not_found(id)
            detached = conn.execute(
                select(func.count()).select_from(agents).where(agents.c.account_id == id)
            ).scalar_one()
            conn.execute(sql_delete(accounts).where(_c.id == id))
        return {"agentsDetached": int(detached)}

    def find_next_available(self, provider: str, now: datetime | None = None) -> Account | None:
        now = now or self._clock.now()
        query = (
            select(_c.id)
            .where(_c.provider == provider, _available(now))
            .order_by(*_ROUND_ROBIN)
            .limit(1)
        )
        with self._write() as conn:
            # Callers pick one at a time per provider, each seeing the last one's
            # stamp (a row lock alone would let two pick the same least-used row).
            serialize_on(conn, "accounts", provider)
            chosen = conn.execute(query).scalar_one_or_none()
            if chosen is None:
                return None
            # Picking an account whose exhaustion expired also clears the flag,
            # so the row never claims to be exhausted while it is in use.
            return self._update_row(
                conn,
                accounts,
                Account,
                chosen,
                {"last_used_at": now, "is_exhausted": False, "exhausted_until": None},
            )

    def mark_exhausted(self, id: str, until: datetime) -> Account:
        with self._write() as conn:
            return self._update_row(
                conn, accounts, Account, id, {"is_exhausted": True, "exhausted_until": until}
            )

    def clear_expired_exhaustion(self, now: datetime | None = None) -> list[str]:
        now = now or self._clock.now()
        with self._write() as conn:
            cleared = conn.execute(
                update(accounts)
                .where(_expired(now))
                .values(is_exhausted=False, exhausted_until=None, updated_at=self._clock.now())
                .returning(accounts.c.id)
            ).scalars()
            return sorted(cleared)

    def _all(self, query: Select[Any]) -> list[Account]:
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Account(*row) for row in rows]


# The secret columns as stored (ciphertext), bypassing ``SecretText``'s decryption.
_raw_accounts = table(
    "accounts", column("id", Text), column("config_json", Text), column("credentials", Text)
)


def rotate_account_secrets(engine: Engine, box: SecretBox) -> int:
    """Re-encrypt every account secret with ``box``'s first key (plain text too);
    returns how many accounts changed. One transaction: all or nothing."""
    changed = 0
    raw = _raw_accounts.c
    with engine.begin() as conn:
        for row in conn.execute(select(raw.id, raw.config_json, raw.credentials)).all():
            values = {
                name: box.rotate(value)
                for name, value in (("config_json", row[1]), ("credentials", row[2]))
                if value is not None
            }
            if values:
                conn.execute(update(_raw_accounts).where(raw.id == row[0]).values(values))
                changed += 1
    return changed


def check_secret_key(engine: Engine, box: SecretBox) -> None:
    """``SecretKeyMismatchError`` unless ``box`` opens the stored secrets: said at
    start, not on the first ``account.get`` after it."""
    raw = _raw_accounts.c
    query = select(raw.credentials, raw.config_json).where(
        or_(raw.credentials.like("fernet:%"), raw.config_json.like("fernet:%"))
    )
    with engine.connect() as conn:
        row = conn.execute(query.limit(1)).first()
    if row is not None:
        for value in row:
            if value is not None:
                box.decrypt(value)
