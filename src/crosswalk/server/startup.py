"""What can stop the server from starting, each said with the file or setting at fault,
what to do, and its own exit code (README, "Exit codes of cw serve").

The checks run before anything is served: the data directory, the admin token, the
secret key, the database file and its schema version, and the port. Anything a user
can cause ends here as a ``StartupError``, never as "this is a bug".
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import DBAPIError

from crosswalk.db.migrate import alembic_config, current_revision
from crosswalk.domain.errors import StartupError

#: ``cw serve`` exit codes (README). 3 means "timed out" for every ``cw`` command and
#: 4 "cannot reach the server", so start-up failures have codes of their own.
EXIT_STARTUP = 10
EXIT_SETTING = 11
EXIT_DATA_DIR = 12
EXIT_DATABASE_UNREADABLE = 13
EXIT_DATABASE_TOO_NEW = 14
EXIT_SECRET_KEY = 15
EXIT_PORT_IN_USE = 16

T = TypeVar("T")


@contextmanager
def file_errors(path: Path, what: str) -> Iterator[None]:
    """OS errors on ``path`` become a ``StartupError`` naming it and the fix."""
    try:
        yield
    except IsADirectoryError:
        raise StartupError(
            f"{path} is a directory, but the {what} belongs there as a file: move the "
            "directory away (or choose another data directory with CW_HOME)",
            exit_code=EXIT_DATA_DIR,
        ) from None
    except PermissionError:
        raise StartupError(
            f"no permission to write {path} (the {what}): fix the permissions "
            f"(chmod u+rwx {path.parent}) or choose another data directory with CW_HOME",
            exit_code=EXIT_DATA_DIR,
        ) from None
    except OSError as exc:
        raise StartupError(
            f"cannot use {exc.filename or path} (the {what}): {exc.strerror}; make it a "
            "writable file in a directory of yours, or choose another data directory with "
            "CW_HOME",
            exit_code=EXIT_DATA_DIR,
        ) from None


def checked_database(engine: Engine, run: Callable[[], T]) -> T:
    """``run()`` (opening and migrating the database), with the failures a user can
    cause (a corrupt or foreign file, a newer schema, a read-only file) explained."""
    where = _where(engine)
    _refuse_newer_schema(engine, where)
    try:
        _refuse_foreign_tables(engine, where)
        return run()
    except DBAPIError as exc:
        original = exc.orig
        message = str(original)
        if isinstance(original, sqlite3.DatabaseError) and (
            "not a database" in message or "malformed" in message
        ):
            raise StartupError(
                f"{where} is not a usable SQLite database (corrupt, or another program's "
                f"file: {message}): restore it from a backup, or move it away to start "
                "with an empty database",
                exit_code=EXIT_DATABASE_UNREADABLE,
            ) from None
        if isinstance(original, sqlite3.OperationalError) and (
            "readonly" in message or "unable to open" in message
        ):
            raise StartupError(
                f"cannot write the database {where} ({message}): fix the permissions of "
                "the file and its directory, or choose another with --db",
                exit_code=EXIT_DATA_DIR,
            ) from None
        raise


def _where(engine: Engine) -> str:
    if engine.dialect.name == "sqlite" and engine.url.database:
        return str(Path(engine.url.database).expanduser())
    return engine.url.render_as_string(hide_password=True)


def _refuse_newer_schema(engine: Engine, where: str) -> None:
    try:
        revision = current_revision(engine)
    except DBAPIError:
        return  # unreadable: the migration reports it, explained, just below
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if revision not in known:
        raise StartupError(
            f"the database {where} is at schema revision {revision!r}, made by a newer "
            f"crosswalk (this one knows up to {scripts.get_current_head()!r}): upgrade "
            "crosswalk, or restore a backup made by this version",
            exit_code=EXIT_DATABASE_TOO_NEW,
        )


def _refuse_foreign_tables(engine: Engine, where: str) -> None:
    """A database with tables but no migration history belongs to someone else."""
    tables = set(inspect(engine).get_table_names())
    if tables and "alembic_version" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StartupError(
            f"{where} holds tables crosswalk did not make ({shown}): it is another "
            "program's database; point --db or CW_DATABASE_URL at crosswalk's own file",
            exit_code=EXIT_DATABASE_UNREADABLE,
        )


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket, bound now so a port in use is said plainly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use (another crosswalk server?): "
                "stop that one, or choose another port with --port",
                exit_code=EXIT_PORT_IN_USE,
            ) from None
        raise StartupError(
            f"cannot listen on {host}:{port}: {exc.strerror}; choose another --host or --port",
            exit_code=EXIT_PORT_IN_USE,
        ) from None
    sock.set_inheritable(True)
    return sock
