"""The composition root: settings, engine, migrations, then the core (repositories and
services, ``build_services``), the runtime on it (runner and dispatch,
``build_runtime``), procedures and the ASGI app. Each part is built whole, with what it
uses; nothing is wired after construction."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from crosswalk.db.encryption import load_secret_box
from crosswalk.db.engine import create_database_engine, is_sqlite
from crosswalk.db.migrate import ensure_schema, head_revision
from crosswalk.db.repositories.sqlalchemy import create_repositories
from crosswalk.db.repositories.sqlalchemy.account import (
    check_secret_key,
    rotate_account_secrets,
)
from crosswalk.db.unit_of_work import EventPublisher, SqlAlchemyUnitOfWork
from crosswalk.dispatch.checkpoints import CheckpointService
from crosswalk.dispatch.diffs import GitDiffer
from crosswalk.dispatch.dispatcher import AgentLauncher, Dispatcher
from crosswalk.dispatch.landing import LandingService, Workspaces
from crosswalk.dispatch.merging import GitMerger
from crosswalk.dispatch.ownership import OwnershipTracker
from crosswalk.dispatch.placement import PlacingLauncher, ServerPresence
from crosswalk.dispatch.pushing import Clones, GitPusher, PushService
from crosswalk.dispatch.review import ReviewService
from crosswalk.dispatch.runner_side import RunnerLauncher, RunnerWorkspaces
from crosswalk.domain.clock import SYSTEM_CLOCK, Clock
from crosswalk.fsmodes import private_dir
from crosswalk.runner import (
    AnsweringScheduler,
    GitWorktrees,
    OsProcesses,
    RunnerServices,
    RunnerSettings,
    Supervisor,
    TellService,
    default_providers,
)
from crosswalk.server.context import Context, Runtime, Services
from crosswalk.server.mcp.endpoint import McpEndpoint
from crosswalk.server.procedures import (
    account,
    agent,
    check_in,
    conversation,
    dashboard,
    initiative,
    log,
    message,
    ownership,
    page,
    phase,
    project,
    proposal,
    server,
    system,
    task,
)
from crosswalk.server.settings import ServerSettings
from crosswalk.server.startup import checked_database, file_errors
from crosswalk.server.trpc import Router, TrpcEndpoint
from crosswalk.server.web.dashboard import create_dashboard
from crosswalk.services.accounts import AccountService
from crosswalk.services.agents import AgentService
from crosswalk.services.answering import AnsweringService
from crosswalk.services.auth import ADMIN, Authenticator, load_or_create_admin_token
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.check_in import CheckInService
from crosswalk.services.conversations import ConversationService
from crosswalk.services.documents import DocumentService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.idle_watch import IdleWatch
from crosswalk.services.logs import LogService
from crosswalk.services.offload import InlineOffload, Offload, ThreadOffload
from crosswalk.services.ownership import OwnershipService
from crosswalk.services.planning import PlanningService
from crosswalk.services.servers import ServerService
from crosswalk.services.sessions import SessionStore
from crosswalk.services.usage import UsageService

if TYPE_CHECKING:
    from crosswalk.server.pg_changes import PostgresChangeRelay

logger = logging.getLogger("crosswalk.server")

MAX_BODY_BYTES = 1 << 20


def build_router() -> Router[Context]:
    return Router[Context]().merge(
        system.router,
        conversation.router,
        initiative.router,
        phase.router,
        task.router,
        agent.router,
        check_in.router,
        account.router,
        project.router,
        page.router,
        proposal.router,
        message.router,
        ownership.router,
        log.router,
        dashboard.router,
        server.router,
    )


def build_offload(engine: Engine, threads: int) -> Offload:
    """Inline on SQLite (a local file answers in microseconds); on a network database
    a pool of ``threads`` worker threads (``CW_DB_THREADS``), so no query holds up the
    loop."""
    if is_sqlite(engine):
        return InlineOffload()
    return ThreadOffload(workers=threads)


def build_services(
    engine: Engine,
    admin_token: str,
    *,
    settings: ServerSettings | None = None,
    publishers: Sequence[EventPublisher] = (),
    changes: ChangeStream | None = None,
    offload: Offload | None = None,
    sessions_file: Path | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Services:
    """The core: every repository and service on ``engine``, with the caps and timings
    of ``settings`` (by default, the defaults). Each unit of work hands its events to
    ``publishers`` (e.g. a PostgreSQL NOTIFY publisher, in the transaction) and then,
    once committed, to this process's change stream. ``offload`` runs the long polls'
    reads; dashboard sessions are kept in ``sessions_file``. ``clock`` is what the
    services tell time by and the adapters stamp rows with."""
    settings = settings or ServerSettings()
    limits = settings.limits()
    repos = create_repositories(engine, clock)
    changes = changes or ChangeStream(clock)
    offload = offload or InlineOffload()
    all_publishers = (*publishers, changes)

    def unit_of_work() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, publishers=all_publishers)

    conversations = ConversationService(
        conversations=repos.conversations,
        agents=repos.agents,
        unit_of_work=unit_of_work,
        changes=changes,
        answer_deliveries=repos.answer_deliveries,
        ownership=repos.ownership,
        offload=offload,
        limits=limits,
    )
    agents = AgentService(
        agents=repos.agents,
        tasks=repos.tasks,
        messages=repos.messages,
        conversations=repos.conversations,
        unit_of_work=unit_of_work,
    )
    human_questions = HumanQuestionService(
        messages=repos.messages,
        agents=agents,
        unit_of_work=unit_of_work,
        changes=changes,
        offload=offload,
        limits=limits,
    )
    planning = PlanningService(
        initiatives=repos.initiatives,
        phases=repos.phases,
        tasks=repos.tasks,
        unit_of_work=unit_of_work,
        human_questions=human_questions,
    )
    idle_watch = IdleWatch(
        agents=agents,
        repository=repos.agents,
        changes=changes,
        after_s=settings.agent_idle_after_s,
        clock=clock,
        offload=offload,
    )
    usage = UsageService(runs=repos.agent_runs, unit_of_work=unit_of_work, clock=clock)
    authenticator = Authenticator(admin_token, repos.agents)
    changes.observe(authenticator.cache.observe)  # a changed agent's token is re-read
    return Services(
        repos=repos,
        changes=changes,
        unit_of_work=unit_of_work,
        conversations=conversations,
        agents=agents,
        planning=planning,
        accounts=AccountService(accounts=repos.accounts, unit_of_work=unit_of_work),
        documents=DocumentService(
            pages=repos.pages,
            proposals=repos.proposals,
            projects=repos.projects,
            phases=repos.phases,
            tasks=repos.tasks,
            unit_of_work=unit_of_work,
        ),
        logs=LogService(log_chunks=repos.log_chunks, unit_of_work=unit_of_work),
        usage=usage,
        authenticator=authenticator,
        human_questions=human_questions,
        checkpoints=CheckpointService(
            tasks=repos.tasks, planning=planning, human_questions=human_questions
        ),
        sessions=SessionStore(admin_token, path=sessions_file, clock=clock),
        check_in=CheckInService(
            agents=agents,
            tasks=repos.tasks,
            conversations=repos.conversations,
            answer_deliveries=repos.answer_deliveries,
            messages=repos.messages,
            unit_of_work=unit_of_work,
            ownership=repos.ownership,
            on_activity=idle_watch.seen,
            clock=clock,
        ),
        idle_watch=idle_watch,
        servers=ServerService(
            servers=repos.servers,
            agent_rows=repos.agents,
            agents=agents,
            planning=planning,
            usage=usage,
            unit_of_work=unit_of_work,
            lease_s=settings.server_lease_s,
        ),
        offload=offload,
    )


def build_runtime(
    services: Services,
    settings: RunnerSettings,
    *,
    workspaces: Workspaces | None = None,
    launcher: AgentLauncher | None = None,
    clones: Clones | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Runtime:
    """What runs on the core: the runner (agents' processes in worktrees under
    ``settings.data_dir``), dispatch and its git work (merges in the data directory's
    ``merges/``). ``workspaces``, ``launcher`` and ``clones`` replace the runner's side
    of dispatch (tests); ``clock`` is the core's."""
    repos = services.repos
    worktrees = GitWorktrees(settings.data_dir, share=settings.share_branches)
    runner_side = RunnerWorkspaces(settings.data_dir, worktrees, repos.initiatives, repos.projects)
    workspaces = workspaces or runner_side
    sharing = runner_side if settings.share_branches else None
    ownership = OwnershipTracker(
        agents=repos.agents,
        tasks=repos.tasks,
        service=OwnershipService(
            ownership=repos.ownership, unit_of_work=services.unit_of_work, clock=clock
        ),
        workspaces=workspaces,
        changes=services.changes,
        runs_here=settings.runs_here,
    )
    pushes = PushService(
        initiatives=repos.initiatives,
        documents=services.documents,
        clones=clones or runner_side,
        pusher=GitPusher(),
    )
    landing = LandingService(
        tasks=repos.tasks,
        agents=repos.agents,
        planning=services.planning,
        agent_service=services.agents,
        human_questions=services.human_questions,
        merger=GitMerger(root=settings.data_dir / "merges", share=settings.share_branches),
        workspaces=workspaces,
        after_merge=pushes,
        watcher=ownership,
        sharing=sharing,
        offload=services.offload,
    )
    answering = AnsweringService(
        runs=repos.answering_runs,
        conversations=repos.conversations,
        unit_of_work=services.unit_of_work,
    )
    runner = Supervisor(
        repos=repos,
        services=RunnerServices(
            agents=services.agents,
            planning=services.planning,
            accounts=services.accounts,
            logs=services.logs,
            usage=services.usage,
            answering=answering,
        ),
        worktrees=worktrees,
        processes=OsProcesses(),
        providers=default_providers(),
        settings=settings,
        run_ends=landing,
        offload=services.offload,
    )
    placing = None
    if settings.server_id is not None and launcher is None:
        placing = PlacingLauncher(
            servers=services.servers,
            supervisor=runner,
            planning=services.planning,
            server_id=settings.server_id,
            offload=services.offload,
            now=clock.now,
        )
    presence = None
    if settings.server_id is not None:
        presence = ServerPresence(
            servers=services.servers,
            supervisor=runner,
            planning=services.planning,
            changes=services.changes,
            settings=settings,
            offload=services.offload,
            now=clock.now,
        )
    return Runtime(
        runner=runner,
        telling=TellService(
            agents=services.agents,
            human_questions=services.human_questions,
            supervisor=runner,
            replies=services.checkpoints,
            offload=services.offload,
        ),
        answering=AnsweringScheduler(
            supervisor=runner,
            agents=repos.agents,
            runs=repos.answering_runs,
            answering=answering,
            changes=services.changes,
            max_answering=settings.max_answering,
            timeout_s=settings.answer_timeout_s,
            offload=services.offload,
        ),
        dispatcher=Dispatcher(
            initiatives=repos.initiatives,
            tasks=repos.tasks,
            phases=repos.phases,
            projects=repos.projects,
            planning=services.planning,
            human_questions=services.human_questions,
            checkpoints=services.checkpoints,
            changes=services.changes,
            launcher=launcher or placing or RunnerLauncher(runner),
            capacity=placing,
            offload=services.offload,
        ),
        ownership=ownership,
        landing=landing,
        review=ReviewService(
            tasks=repos.tasks,
            agents=repos.agents,
            planning=services.planning,
            human_questions=services.human_questions,
            workspaces=workspaces,
            differ=GitDiffer(),
            resumer=runner,
            sharing=sharing,
            offload=services.offload,
        ),
        pushes=pushes,
        presence=presence,
    )


class ApiFirst:
    """The ASGI entry point: API requests (``/trpc/...``) go straight to the tRPC
    endpoint; everything else (the dashboard, ``/trpc`` itself, lifespan) through
    ``rest``, the Starlette app.

    Starlette's router and its two error-handling middlewares each wrap a request, and
    each ``send`` of its response, in a coroutine of their own; the endpoint answers its
    own errors (an escaped exception still becomes uvicorn's 500), so every agent's
    every request skips them. The scope is what Starlette's ``Mount`` would give the
    endpoint (``root_path`` extended by the mount point).
    """

    MOUNT: ClassVar[str] = "/trpc"  # also the Starlette app's mount (``/trpc`` itself)

    def __init__(self, endpoint: ASGIApp, rest: Starlette) -> None:
        self._endpoint = endpoint
        self._rest = rest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            if path.startswith(root_path + self.MOUNT + "/"):
                child = dict(scope)
                child["root_path"] = root_path + self.MOUNT
                await self._endpoint(child, receive, send)
                return
        await self._rest(scope, receive, send)


@dataclass
class CrosswalkApp:
    """The ASGI app plus the handles the process needs to shut it down cleanly."""

    asgi: ApiFirst
    services: Services
    runtime: Runtime
    endpoint: TrpcEndpoint[Context]
    engine: Engine
    relay: PostgresChangeRelay | None = None  # the other servers' events (PostgreSQL)
    mcp: McpEndpoint | None = None  # /mcp, whose sessions end with the server

    async def begin_shutdown(self) -> None:
        """Wake every parked long poll and end every SSE stream and MCP session, so
        clients reconnect to the next server instead of holding this one open."""
        if self.mcp is not None:
            self.mcp.stop_waiting()
        self.services.changes.close()
        await self.endpoint.close(timeout_s=2.0)

    def close(self) -> None:
        """Release what the app holds (tests that never run its lifespan call this)."""
        self.services.changes.close()
        if self.relay is not None:
            self.relay.close()
        self.services.offload.close()
        self.engine.dispose()


def create_app(
    database_url: str | None = None,
    *,
    settings: ServerSettings | None = None,
    admin_token_file: Path | None = None,
    runner_settings: RunnerSettings | None = None,
) -> CrosswalkApp:
    """The app on ``database_url`` (by default the settings'), with ``settings`` (by
    default read from the environment, once, here); the admin token and the secret key
    live in the data directory (``admin_token_file``'s, by default the settings'
    ``CW_HOME``). Anything a user can get wrong raises a ``StartupError`` that names it.
    ``runner_settings`` default to the settings' (``ServerSettings.runner``)."""
    settings = settings or ServerSettings.from_environ(os.environ)
    token_file = admin_token_file or settings.data_dir / "admin-token"
    home = token_file.parent
    with file_errors(home, "data directory"):
        private_dir(home)
    with file_errors(token_file, "admin token file"):
        admin_token = load_or_create_admin_token(token_file)
    with file_errors(home / "secret-key", "secret key file"):
        box = load_secret_box(home / "secret-key", settings.secret_key)
    url = database_url or settings.database()
    with file_errors(Path(make_url(url).database or home), "database file"):
        engine = create_database_engine(url, secret_box=box, pool_size=settings.db_pool_size)
    migrated_from = checked_database(engine, lambda: ensure_schema(engine))
    if migrated_from is not None:
        logger.warning("database migrated from %s to %s", migrated_from, head_revision())
    check_secret_key(engine, box)
    if box.key_count > 1:
        rotated = rotate_account_secrets(engine, box)
        logger.warning(
            "re-encrypted the secrets of %d account(s) with the first secret key; the "
            "other keys can now be removed",
            rotated,
        )
    changes = ChangeStream()
    relay = None
    if not is_sqlite(engine):
        # Imported here: psycopg is installed only with crosswalk's "postgres" extra.
        from crosswalk.server.pg_changes import PostgresChangeRelay

        relay = PostgresChangeRelay(engine, changes)
        relay.start()  # listening before the first request, so no event is missed
    services = build_services(
        engine,
        admin_token,
        settings=settings,
        publishers=(relay,) if relay is not None else (),
        changes=changes,
        offload=build_offload(engine, settings.database_threads()),
        sessions_file=home / "dashboard-sessions.json",
    )
    runtime = build_runtime(services, runner_settings or settings.runner())
    admin = Context(principal=ADMIN, services=services, runtime=runtime)

    async def create_context(request: Request, public: bool) -> Context:
        authorization = request.headers.get("authorization")
        if authorization is None:
            params = getattr(request.state, "connection_params", None) or {}
            token = params.get("token") if isinstance(params, dict) else None
            authorization = f"Bearer {token}" if token else None
        if public and authorization is None:
            return admin
        principal = services.authenticator.known(authorization)
        if principal is None:  # not cached: read the database (off the loop if it waits)
            principal = await services.offload(services.authenticator.authenticate, authorization)
        return Context(principal=principal, services=services, runtime=runtime)

    router = build_router()
    endpoint = TrpcEndpoint(
        router,
        create_context,
        max_body_bytes=MAX_BODY_BYTES,
        offload=None if services.offload.inline else services.offload,
    )
    mcp = McpEndpoint(create_context, endpoint)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.runner.start()
        if runtime.presence is not None:
            await runtime.presence.start()
        await runtime.answering.start()
        await services.idle_watch.start()
        dispatching = None
        if not runtime.runner.settings.worker:
            dispatching = asyncio.create_task(runtime.dispatcher.serve(), name="dispatch")
        tracking = asyncio.create_task(runtime.ownership.serve(), name="ownership")
        yield
        mcp.stop_waiting()
        if runtime.presence is not None:
            await runtime.presence.close()
        await services.idle_watch.close()
        await runtime.answering.close()
        await runtime.runner.close()
        services.changes.close()
        if dispatching is not None:
            await dispatching
        await tracking
        await endpoint.close(timeout_s=2.0)
        await mcp.close()
        if relay is not None:
            relay.close()
        services.offload.close()
        engine.dispose()

    routes: list[BaseRoute] = [
        Mount(ApiFirst.MOUNT, app=endpoint),
        Route("/mcp", mcp, methods=["GET", "POST", "DELETE"]),
    ]
    if not runtime.runner.settings.worker:  # a worker serves its agents' API only
        routes.append(Mount("/", app=create_dashboard(admin, router)))
    rest = Starlette(
        routes=routes,
        lifespan=lifespan,
    )
    return CrosswalkApp(
        asgi=ApiFirst(endpoint, rest),
        services=services,
        runtime=runtime,
        endpoint=endpoint,
        engine=engine,
        relay=relay,
        mcp=mcp,
    )
