"""A throwaway PostgreSQL server for the tests: real binaries, a temporary data directory.

``scripts/install-postgres`` (run by ``make setup``) makes the binaries available:
Debian's ``postgresql`` package, or the ones bundled in PyPI's ``pgserver`` wheel.
:class:`PostgresServer` runs ``initdb`` and ``postgres`` from them on 127.0.0.1 and a
free port, with trust authentication on loopback only and durability switched off
(a test database is thrown away). PostgreSQL refuses to run as root, so under root
(CI) the server runs as ``nobody`` in a directory it owns.

Each test gets its own database, copied from a template migrated once per session
(``CREATE DATABASE ... TEMPLATE``), so no test sees another's rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.support.server import free_port

#: prctl(2): the signal a process gets when the thread that started it ends.
PR_SET_PDEATHSIG = 1


def _shut_down_with_the_starter() -> None:
    """In the server's process, before ``postgres`` runs (after it became ``nobody``,
    which would clear the setting): a fast shutdown (SIGINT) when the test run that
    started it dies, so a killed run leaves no server behind."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT)


UNPRIVILEGED_USER = "nobody"
STARTUP_TIMEOUT_S = 30.0
SUPERUSER = "postgres"

# Speed over durability: the data directory is deleted at the end anyway.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
}


class PostgresUnavailableError(Exception):
    """No PostgreSQL server binaries on this machine."""


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_bindir() -> Path:
    """Where ``initdb`` and ``postgres`` are, in the order install-postgres provides them."""
    candidates: list[Path] = []
    override = os.environ.get("CW_TEST_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "pginstall" / "bin")
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "postgres").is_file():
            return candidate
    raise PostgresUnavailableError(
        "no PostgreSQL server binaries found: run `make setup` (scripts/install-postgres "
        "installs Debian's postgresql package as root, else the pgserver wheel), or set "
        "CW_TEST_PG_BINDIR to a directory holding initdb and postgres"
    )


@dataclass
class PostgresServer:
    """One ``postgres`` process; ``start`` then ``stop`` (which also deletes its files)."""

    bindir: Path = field(default_factory=find_bindir)
    port: int = field(default_factory=free_port)
    root: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    _run_as: str | None = None

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="crosswalk-pg-"))
        data = self.root / "data"
        if os.geteuid() == 0:
            account = pwd.getpwnam(UNPRIVILEGED_USER)
            self._run_as = UNPRIVILEGED_USER
            self.root.chmod(0o755)
            data.mkdir(mode=0o700)
            os.chown(data, account.pw_uid, account.pw_gid)
        log = (self.root / "server.log").open("wb")
        try:
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "--pgdata",
                    str(data),
                    "--username",
                    SUPERUSER,
                    "--auth",
                    "trust",
                    "--encoding",
                    "UTF8",
                    "--locale",
                    "C",
                    "--no-sync",
                ],
                log,
            )
            settings = [f"--{key}={value}" for key, value in SERVER_SETTINGS.items()]
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(data), "-p", str(self.port), *settings],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=self._run_as,
                start_new_session=True,
                preexec_fn=_shut_down_with_the_starter,
            )
        finally:
            log.close()
        self._wait_until_ready()
        return self

    def _run(self, command: list[str], log: object) -> None:
        result = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            user=self._run_as,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            self.stop()
            raise RuntimeError(f"{command[0]} failed:\n{result.stdout.decode(errors='replace')}")

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                log = self.log()
                self.stop()
                raise RuntimeError(f"postgres exited at start-up:\n{log}")
            try:
                with psycopg.connect(self.conninfo(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.05)
        log = self.log()
        self.stop()
        raise RuntimeError(f"postgres did not accept connections in {STARTUP_TIMEOUT_S} s:\n{log}")

    def log(self) -> str:
        if self.root is None or not (self.root / "server.log").exists():
            return ""
        return (self.root / "server.log").read_text(errors="replace")

    def execute(self, sql: str, database: str = "postgres") -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        with psycopg.connect(self.conninfo(database), autocommit=True) as conn:
            conn.execute(sql.encode())

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` when given); its URL."""
        copy = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.execute(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back, disconnect, stop), then delete the files."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()
