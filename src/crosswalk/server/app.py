"""The composition root: engine, migrations, repositories, services, procedures, ASGI app."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from crosswalk.config import admin_token_path, default_database_url
from crosswalk.db.encryption import load_secret_box
from crosswalk.db.engine import create_database_engine
from crosswalk.db.migrate import ensure_schema, head_revision
from crosswalk.db.repositories.sqlalchemy import create_repositories
from crosswalk.db.repositories.sqlalchemy.account import (
    check_secret_key,
    rotate_account_secrets,
)
from crosswalk.db.unit_of_work import EventPublisher, SqlAlchemyUnitOfWork
from crosswalk.fsmodes import private_dir
from crosswalk.runner import (
    GitWorktrees,
    OsProcesses,
    RunnerServices,
    RunnerSettings,
    Supervisor,
    default_providers,
)
from crosswalk.server.context import Context, Services
from crosswalk.server.procedures import (
    account,
    agent,
    check_in,
    conversation,
    dashboard,
    initiative,
    log,
    message,
    page,
    phase,
    project,
    proposal,
    system,
    task,
)
from crosswalk.server.startup import checked_database, file_errors
from crosswalk.server.trpc import Router, TrpcEndpoint
from crosswalk.server.web.dashboard import create_dashboard
from crosswalk.services.accounts import AccountService
from crosswalk.services.agents import AgentService
from crosswalk.services.auth import ADMIN, Authenticator, load_or_create_admin_token
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.check_in import CheckInService
from crosswalk.services.conversations import ConversationService
from crosswalk.services.documents import DocumentService
from crosswalk.services.human_questions import HumanQuestionService
from crosswalk.services.limits import Limits
from crosswalk.services.logs import LogService
from crosswalk.services.planning import PlanningService
from crosswalk.services.sessions import SessionStore

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
        log.router,
        dashboard.router,
    )


def build_services(
    engine: Engine,
    admin_token: str,
    *,
    publishers: Sequence[EventPublisher] = (),
    limits: Limits | None = None,
    runner_settings: RunnerSettings | None = None,
    sessions_file: Path | None = None,
) -> Services:
    """Every service on ``engine``. Each unit of work hands its events to ``publishers``
    (e.g. a PostgreSQL NOTIFY publisher, in the transaction) and then, once committed,
    to this process's change stream. ``runner_settings`` default to the environment's;
    dashboard sessions are kept in ``sessions_file``."""
    limits = limits or Limits.from_env(os.environ)
    repos = create_repositories(engine)
    changes = ChangeStream()
    all_publishers = (*publishers, changes)

    def unit_of_work() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(engine, publishers=all_publishers)

    conversations = ConversationService(
        conversations=repos.conversations,
        agents=repos.agents,
        tasks=repos.tasks,
        phases=repos.phases,
        unit_of_work=unit_of_work,
        changes=changes,
        answer_deliveries=repos.answer_deliveries,
        limits=limits,
    )
    agents = AgentService(
        agents=repos.agents,
        tasks=repos.tasks,
        messages=repos.messages,
        conversations=repos.conversations,
        unit_of_work=unit_of_work,
    )
    planning = PlanningService(
        initiatives=repos.initiatives,
        phases=repos.phases,
        tasks=repos.tasks,
        unit_of_work=unit_of_work,
    )
    accounts = AccountService(accounts=repos.accounts, unit_of_work=unit_of_work)
    logs = LogService(log_chunks=repos.log_chunks, unit_of_work=unit_of_work)
    settings = runner_settings or RunnerSettings.from_env()
    runner = Supervisor(
        repos=repos,
        services=RunnerServices(agents=agents, planning=planning, accounts=accounts, logs=logs),
        worktrees=GitWorktrees(settings.data_dir),
        processes=OsProcesses(),
        providers=default_providers(),
        settings=settings,
    )
    return Services(
        repos=repos,
        changes=changes,
        unit_of_work=unit_of_work,
        conversations=conversations,
        agents=agents,
        planning=planning,
        accounts=accounts,
        documents=DocumentService(
            pages=repos.pages,
            proposals=repos.proposals,
            projects=repos.projects,
            phases=repos.phases,
            tasks=repos.tasks,
            unit_of_work=unit_of_work,
        ),
        logs=logs,
        authenticator=Authenticator(admin_token, repos.agents),
        human_questions=HumanQuestionService(
            messages=repos.messages,
            agents=agents,
            unit_of_work=unit_of_work,
            changes=changes,
            limits=limits,
        ),
        sessions=SessionStore(admin_token, path=sessions_file),
        check_in=CheckInService(
            agents=agents,
            tasks=repos.tasks,
            conversations=repos.conversations,
            answer_deliveries=repos.answer_deliveries,
            unit_of_work=unit_of_work,
        ),
        runner=runner,
    )


@dataclass
class CrosswalkApp:
    """The ASGI app plus the handles the process needs to shut it down cleanly."""

    asgi: Starlette
    services: Services
    endpoint: TrpcEndpoint[Context]
    engine: Engine

    async def begin_shutdown(self) -> None:
        """Wake every parked long poll and end every SSE stream, so clients
        reconnect to the next server instead of holding this one open."""
        self.services.changes.close()
        await self.endpoint.close(timeout_s=2.0)


def create_app(
    database_url: str | None = None,
    *,
    admin_token_file: Path | None = None,
    runner_settings: RunnerSettings | None = None,
) -> CrosswalkApp:
    """The app on ``database_url``; the admin token and the secret key live in the
    data directory (``admin_token_file``'s, by default ``$CW_HOME``). Anything a
    user can get wrong raises a ``StartupError`` that names it. ``runner_settings``
    default to the environment's (``RunnerSettings.from_env``)."""
    token_file = admin_token_file or admin_token_path()
    home = token_file.parent
    with file_errors(home, "data directory"):
        private_dir(home)
    with file_errors(token_file, "admin token file"):
        admin_token = load_or_create_admin_token(token_file)
    with file_errors(home / "secret-key", "secret key file"):
        box = load_secret_box(home / "secret-key")
    url = database_url or default_database_url()
    with file_errors(Path(make_url(url).database or home), "database file"):
        engine = create_database_engine(url, secret_box=box)
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
    services = build_services(
        engine,
        admin_token,
        runner_settings=runner_settings,
        sessions_file=home / "dashboard-sessions.json",
    )
    public_context = Context(principal=ADMIN, services=services)

    async def create_context(request: Request, public: bool) -> Context:
        authorization = request.headers.get("authorization")
        if authorization is None:
            params = getattr(request.state, "connection_params", None) or {}
            token = params.get("token") if isinstance(params, dict) else None
            authorization = f"Bearer {token}" if token else None
        if public and authorization is None:
            return public_context
        principal = services.authenticator.authenticate(authorization)
        return Context(principal=principal, services=services)

    router = build_router()
    endpoint = TrpcEndpoint(router, create_context, max_body_bytes=MAX_BODY_BYTES)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await services.runner.start()
        yield
        await services.runner.close()
        services.changes.close()
        await endpoint.close(timeout_s=2.0)
        engine.dispose()

    asgi = Starlette(
        routes=[Mount("/trpc", app=endpoint), Mount("/", app=create_dashboard(services, router))],
        lifespan=lifespan,
    )
    return CrosswalkApp(asgi=asgi, services=services, endpoint=endpoint, engine=engine)
