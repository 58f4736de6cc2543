"""The database module: schema, migrations, ports and their SQLAlchemy adapters.

The barrel: import what you need from here (``docs/database.md`` maps the pieces).
"""

from crosswalk.db.engine import create_database_engine, is_sqlite
from crosswalk.db.migrate import ensure_schema
from crosswalk.db.repositories import *  # noqa: F403
from crosswalk.db.repositories import __all__ as _ports
from crosswalk.db.repositories.sqlalchemy import *  # noqa: F403
from crosswalk.db.repositories.sqlalchemy import __all__ as _adapters

__all__ = ["create_database_engine", "ensure_schema", "is_sqlite", *_ports, *_adapters]
