"""``cw serve``: run the server under uvicorn until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from crosswalk.config import DEFAULT_HOST, DEFAULT_PORT
from crosswalk.domain.errors import CrosswalkError, StartupError
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.server.http_protocol import BatchingHttpToolsProtocol, JoiningHttpToolsProtocol
from crosswalk.server.settings import ServerSettings
from crosswalk.server.single_server import SqliteServerLock, sqlite_file
from crosswalk.server.startup import EXIT_STARTUP, bind_socket

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_EXIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn, plus: ``banner`` said once it listens, and on the first exit signal every
    waiting request woken at once.

    Otherwise uvicorn would wait for parked long polls (up to 10 minutes) before
    shutting down; woken, they answer with their current state and clients
    carry on against the next server.
    """

    def __init__(self, config: uvicorn.Config, app: CrosswalkApp, banner: list[str]) -> None:
        super().__init__(config)
        self._crosswalk = app
        self._draining: asyncio.Task[None] | None = None
        self._crosswalk_banner = banner

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            for line in self._crosswalk_banner:
                _say(line)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Like uvicorn's, minus re-raising the signal after the graceful shutdown:
        a clean stop on SIGINT or SIGTERM exits 0."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _EXIT_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(
                self._crosswalk.begin_shutdown()
            )
        super().handle_exit(sig, frame)


def exposure_warning(host: str) -> str | None:
    """What to tell the operator when the server listens beyond loopback."""
    if host in LOOPBACK:
        return None
    return (
        f"warning: listening on {host}, beyond this machine; every client needs a token, "
        "and traffic is not encrypted (put a TLS proxy in front)"
    )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    database_url: str | None = None,
    *,
    stop_agents: bool = False,
    worker: bool = False,
) -> int:
    """``stop_agents``: stop the running agents on exit (else they run on, and the next
    start adopts them); ``worker``: run the agents placed here only (no dispatch loop,
    no dashboard). The settings are read from the environment here, once."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        settings = ServerSettings.from_environ(os.environ)
    except StartupError as exc:
        _say(f"error: {exc.message}")
        return exc.exit_code
    url = database_url or settings.database()
    origin = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    endpoint = f"{origin}/trpc"
    sqlite_path = sqlite_file(url)
    if worker and sqlite_path is not None:
        _say(
            "error: cw serve --worker runs the agents another server places on it, which "
            "needs a database the servers share: give it the deployment's PostgreSQL URL "
            "(--db or CW_DATABASE_URL; docs/deploy.md)"
        )
        return EXIT_STARTUP
    runner_settings = settings.runner(
        server_url=_reachable(endpoint, host, port),
        server_id=settings.server_name(port),
        stop_agents_on_exit=stop_agents,
        worker=worker,
        share_branches=sqlite_path is None,  # PostgreSQL: servers on several machines
    )
    lock = SqliteServerLock(sqlite_path) if sqlite_path is not None else None
    try:
        if lock is not None:
            lock.acquire(endpoint)
        sock = bind_socket(host, port)
        try:
            app = create_app(url, settings=settings, runner_settings=runner_settings)
        except BaseException:
            sock.close()
            raise
    except StartupError as exc:
        _say(f"error: {exc.message}")
        if lock is not None:
            lock.release()
        return exc.exit_code
    except CrosswalkError as exc:
        _say(f"error: {exc.message}")
        if lock is not None:
            lock.release()
        return EXIT_STARTUP
    try:
        return _run(app, sock, host, port, url, endpoint, settings)
    finally:
        if lock is not None:
            lock.release()


def _run(
    app: CrosswalkApp,
    sock: socket.socket,
    host: str,
    port: int,
    url: str,
    endpoint: str,
    settings: ServerSettings,
) -> int:
    warning = exposure_warning(host)
    if warning is not None:
        _say(warning)
    config = uvicorn.Config(
        app.asgi,
        host=host,
        port=port,
        loop="uvloop",
        # httptools, one write per response; a turn's responses sent together when the
        # handlers run on the loop (docs/performance.md)
        http=BatchingHttpToolsProtocol if app.services.offload.inline else JoiningHttpToolsProtocol,
        lifespan="on",
        access_log=False,
        # crosswalk reads neither the client's address nor the scheme: no need for
        # uvicorn's X-Forwarded-* middleware around every request.
        proxy_headers=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    dashboard = endpoint.removesuffix("/trpc") + "/"
    runner = app.runtime.runner.settings
    where = (
        "worker:          runs the agents placed here only (no dispatch, no dashboard)"
        if runner.worker
        else f"dashboard:       {dashboard} (sign in with `cw dashboard` or the admin token)"
    )
    banner = [
        f"crosswalk {_version()}, server {settings.server_name(port)}, database {_redact(url)}",
        f"listening on {endpoint}",
        where,
        f"capacity:        {runner.max_agents} agents at once (CW_MAX_AGENTS)",
        f"point cw at it:  export CW_URL={endpoint}",
        f"MCP tools:       {endpoint.removesuffix('/trpc')}/mcp (agents' bearer tokens; "
        "docs/mcp.md)",
        f"admin token:     {settings.data_dir / 'admin-token'} (cw on this machine reads it "
        "from there)",
        *_agent_clis(app),
    ]
    server = _Server(config, app, banner)
    # Everything built so far lives as long as the process: keep the cyclic garbage
    # collector from rescanning it on every full collection (shorter pauses).
    gc.freeze()
    server.run(sockets=[sock])
    if not server.started:
        return EXIT_STARTUP
    _say("crosswalk stopped")
    return 0


def _agent_clis(app: CrosswalkApp) -> list[str]:
    """One line per agent CLI: where the server found it, or how to get it."""
    lines = []
    for name, located in app.runtime.runner.executables().items():
        where = located.path or f"not found (tried {located.tried}): {located.remedy}"
        lines.append(f"{name + ':':<17}{where}")
    return lines


def _reachable(endpoint: str, host: str, port: int) -> str:
    """The URL agents on this machine use: loopback when listening on every address."""
    if host in ("0.0.0.0", "::", ""):
        return f"http://127.0.0.1:{port}/trpc"
    return endpoint


def _version() -> str:
    from crosswalk import __version__

    return __version__


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
