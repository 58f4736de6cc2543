"""Alembic environment: runs against the connection ``crosswalk.db.migrate`` hands in,
or against ``CW_DATABASE_URL`` / the default database when run by the alembic CLI."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from crosswalk.config import data_dir
from crosswalk.db.encryption import ENV_VAR, load_secret_box
from crosswalk.db.engine import create_database_engine
from crosswalk.db.schema import metadata
from crosswalk.fsmodes import private_dir

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Run by the alembic CLI: the secret key is found as ``cw serve`` finds it, so
    # migration 0002 can encrypt account secrets.
    box = load_secret_box(private_dir(data_dir()) / "secret-key", os.environ.get(ENV_VAR))
    engine = create_database_engine(
        config.get_main_option("sqlalchemy.url") or None, secret_box=box
    )
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("crosswalk migrations run online only")
run_migrations_online()
