"""Schema migrations: ``ensure_schema`` brings a database to the Alembic head.

The Alembic scripts live inside the package (``crosswalk/db/migrations``) so an
installed crosswalk can migrate its own database; no raw SQL creates tables.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x63_77_6D_69_67_72_61_74  # "cwmigrat": the advisory lock migrations hold


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_schema(engine: Engine) -> str | None:
    """Upgrade the database to head; a no-op when it is already there.

    Returns the revision the database was at before, when it had to upgrade
    ("base" for an empty database), else None.
    """
    before = current_revision(engine)
    if before == head_revision():
        return None
    upgrade(engine, "head")
    return before or "base"


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, lambda config: command.downgrade(config, revision))


def _run(engine: Engine, action: Callable[[Config], None]) -> None:
    """Run ``action`` in one transaction. On SQLite, foreign keys are off meanwhile:
    batch mode alters a table by copying it and dropping the original, and with
    them on, the drop would cascade to every row that refers to the table. The
    pragma only takes effect outside a transaction, so it is set around it, and
    ``foreign_key_check`` afterwards proves the migration left every reference intact."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        driver: Any = connection.connection.driver_connection
        if sqlite:
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Several servers starting together: one migrates, the others wait
                    # here and then find the database already at the revision (DDL is
                    # transactional).
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                config.attributes["connection"] = connection
                action(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys = ON")
