"""encrypt account secrets

Account ``credentials`` and ``config_json`` written in plain text before encryption
existed are encrypted with the server's key (``crosswalk.db.encryption``). The key
comes with the connection: ``cw serve`` loads it (``CW_SECRET_KEY``, else
``<data dir>/secret-key``, created on first start) before it migrates, and the alembic
CLI's env.py loads it the same way. The column type stays TEXT: only values change.

Revision ID: 0002_encrypt_account_secrets
Revises: 0002_answer_deliveries
Create Date: 2026-11-29 18:10:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from crosswalk.db import encryption

revision: str = "0002_encrypt_account_secrets"
down_revision: str | None = "0002_answer_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_accounts = sa.table(
    "accounts",
    sa.column("id", sa.String),
    sa.column("config_json", sa.Text),
    sa.column("credentials", sa.Text),
)
_SECRETS = ("config_json", "credentials")


def _rewrite(change: Callable[[encryption.SecretBox, str], str | None]) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_accounts)).mappings().all()
    box = encryption.box_of(bind.dialect)
    for row in rows:
        values = {}
        for name in _SECRETS:
            value = row[name]
            if value is None:
                continue
            if box is None:
                raise RuntimeError(
                    "migration 0002 encrypts account secrets and needs the key: run it "
                    "with `cw serve` (it loads CW_SECRET_KEY or <data dir>/secret-key), "
                    "or set CW_SECRET_KEY for the alembic command"
                )
            new = change(box, value)
            if new is not None and new != value:
                values[name] = new
        if values:
            bind.execute(sa.update(_accounts).where(_accounts.c.id == row["id"]).values(values))


def upgrade() -> None:
    _rewrite(lambda box, value: None if value.startswith(encryption.PREFIX) else box.encrypt(value))


def downgrade() -> None:
    _rewrite(lambda box, value: box.decrypt(value))
