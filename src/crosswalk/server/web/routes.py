"""The dashboard's routes: pages, their JSON twins, the forms, sign-in and the live stream.

Every page ``/x`` has a twin ``/x.json`` with the same data (``crosswalk.server.web.views``).
A request from htmx (``HX-Request``) for a page gets only its live region, which is
what the page swaps in when the live stream says something changed. Forms post
classic HTML forms and redirect back (post/redirect/get), so they work from the
keyboard and without JavaScript; every post is checked by ``_checked_form``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles

from crosswalk.dispatch.review import ReviewService
from crosswalk.domain.errors import CrosswalkError
from crosswalk.server.context import Services
from crosswalk.server.procedures.dashboard import SIGN_IN_PATH
from crosswalk.server.trpc import TrpcError, to_trpc_error
from crosswalk.server.web import auth, live, views, watch
from crosswalk.server.web.api import AdminApi
from crosswalk.server.web.templating import create_environment
from crosswalk.services.sessions import Session

Endpoint = Callable[[Request], Awaitable[Response]]

#: Procedures the agent page's buttons call when the server offers them.
STOP_AGENT = "agent.stop"
RESUME_AGENT = "agent.resume"
#: The task page's Request changes, and the initiative page's Push.
REJECT_TASK = "task.reject"
PUSH_INITIATIVE = "initiative.push"
TELL_AGENT = "agent.tell"
#: A blocked task is retried through this procedure (merging its work again) when the
#: server offers it, else put back to ``pending`` (``task.update``) for whoever
#: dispatches work.
RETRY_TASK = "task.retryMerge"


class Dashboard:
    """The request handlers, bound to one server's services."""

    def __init__(self, services: Services, api: AdminApi, review: ReviewService) -> None:
        self.services = services
        self.review = review
        self.sessions = services.sessions
        self.api = api
        self.templates = create_environment()
        #: Each page's route and what it shows, for the live stream of a page (``/events?page=``).
        self.watches: list[tuple[Route, Callable[[dict[str, Any]], watch.Watch]]] = []

    # --- rendering -------------------------------------------------------------------

    def _render(
        self,
        request: Request,
        template: str,
        data: dict[str, Any],
        *,
        session: Session | None,
        status: int = 200,
    ) -> HTMLResponse:
        page = self.templates.get_template(template)
        context = {
            "request_path": request.url.path,
            "live_url": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            "csrf": session.csrf if session is not None else "",
            "signed_in": session is not None,
            "inbox_count": 0,
            "api": self.api,
            "oob": False,
            **data,
        }
        if request.headers.get("hx-request") == "true" and "live" in page.blocks:
            # The live region, plus the header's inbox count swapped in out of band.
            body = "".join(page.blocks["live"](page.new_context(context)))
            badge = self.templates.get_template("inbox_badge.html")
            body += badge.render({**context, "oob": True})
        else:
            body = page.render(context)
        return HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})

    def _error(
        self, request: Request, session: Session | None, message: str, status: int
    ) -> HTMLResponse:
        back = _local_path(_path_of(request.headers.get("referer"))) or "/"
        return self._render(
            request,
            "error.html",
            {"message": message, "back": back, "live_url": None},
            session=session,
            status=status,
        )

    def _refused(
        self, request: Request, session: Session | None, exc: CrosswalkError
    ) -> HTMLResponse:
        error = _as_wire_error(request, exc)
        return self._error(request, session, error.message, error.http_status)

    def _read_page(
        self, build: Callable[[Request], dict[str, Any]], request: Request
    ) -> dict[str, Any]:
        """A page's data and the header's inbox count (database reads: run in a worker
        thread, off the event loop)."""
        return {**build(request), "inbox_count": len(self.services.human_questions.inbox())}

    def page(
        self, template: str, build: Callable[[Request], dict[str, Any]]
    ) -> tuple[Endpoint, Endpoint]:
        """The HTML endpoint and the JSON twin of one page."""

        async def html(request: Request) -> Response:
            session = auth.current_session(request, self.sessions)
            if session is None:
                return _to_sign_in(request)
            try:
                data = await run_in_threadpool(self._read_page, build, request)
            except CrosswalkError as exc:
                return self._refused(request, session, exc)
            return self._render(request, template, data, session=session)

        async def twin(request: Request) -> Response:
            if auth.current_session(request, self.sessions) is None:
                return _unauthorized()
            try:
                data = await run_in_threadpool(build, request)
                return JSONResponse(data, headers={"cache-control": "no-store"})
            except CrosswalkError as exc:
                error = _as_wire_error(request, exc)
                return JSONResponse({"error": error.message}, status_code=error.http_status)

        return html, twin

    # --- forms -----------------------------------------------------------------------

    async def _checked_form(self, request: Request) -> tuple[Session, FormData] | Response:
        """The session and form of a POST from this dashboard, or the refusal to send."""
        session = auth.current_session(request, self.sessions)
        if session is None:
            return _unauthorized()
        if not auth.same_origin(request):
            return _forbidden("cross-site request refused: the form must come from this dashboard")
        form = await request.form()
        if not auth.csrf_matches(session.csrf, form.get(auth.CSRF_FIELD)):
            return _forbidden(
                "the form's security token is missing or stale: reload the page and try again"
            )
        return session, form

    async def _action(
        self, request: Request, path: str, input: Callable[[FormData], dict[str, Any]]
    ) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        try:
            await self.api.call(path, input(form))
        except CrosswalkError as exc:
            return self._refused(request, session, exc)
        back = _local_path(str(form.get("next") or "")) or "/"
        return RedirectResponse(back, status_code=303)

    async def reply(self, request: Request) -> Response:
        message_id = request.path_params["message_id"]
        return await self._action(
            request,
            "message.reply",
            lambda form: {"id": message_id, "content": str(form.get("content") or "").strip()},
        )

    async def approve_task(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        return await self._action(request, "task.approve", lambda _form: {"id": task_id})

    async def reject_task(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        return await self._action(
            request,
            REJECT_TASK,
            lambda form: {"id": task_id, "comment": str(form.get("comment") or "").strip()},
        )

    async def push_initiative(self, request: Request) -> Response:
        initiative_id = request.path_params["initiative_id"]
        return await self._action(request, PUSH_INITIATIVE, lambda _form: {"id": initiative_id})

    async def retry_task(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        if self.api.has(RETRY_TASK):
            return await self._action(request, RETRY_TASK, lambda _form: {"id": task_id})
        return await self._action(
            request, "task.update", lambda _form: {"id": task_id, "status": "pending"}
        )

    async def stop_agent(self, request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        return await self._action(request, STOP_AGENT, lambda _form: {"id": agent_id})

    async def resume_agent(self, request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        return await self._action(request, RESUME_AGENT, lambda _form: {"id": agent_id})

    async def tell_agent(self, request: Request) -> Response:
        agent_id = request.path_params["agent_id"]
        return await self._action(
            request,
            TELL_AGENT,
            lambda form: {"id": agent_id, "message": str(form.get("content") or "").strip()},
        )

    # --- signing in and out ----------------------------------------------------------

    async def sign_in_form(self, request: Request) -> Response:
        if auth.current_session(request, self.sessions) is not None:
            return RedirectResponse("/", status_code=303)
        return self._sign_in_page(request, error=None, status=200)

    def _sign_in_page(
        self, request: Request, *, error: str | None, status: int, next_path: str | None = None
    ) -> Response:
        response = HTMLResponse("")
        token = auth.new_sign_in_csrf(response)
        page = self._render(
            request,
            "signin.html",
            {"error": error, "signin_csrf": token, "next": next_path or _next_of(request)},
            session=None,
            status=status,
        )
        for key, value in response.raw_headers:
            if key == b"set-cookie":
                page.raw_headers.append((key, value))
        return page

    async def sign_in(self, request: Request) -> Response:
        if not auth.same_origin(request):
            return _forbidden("cross-site request refused: sign in from the dashboard's own page")
        form = await request.form()
        next_path = _local_path(str(form.get("next") or "")) or "/"
        if not auth.csrf_matches(
            request.cookies.get(auth.SIGN_IN_CSRF_COOKIE), form.get(auth.CSRF_FIELD)
        ):
            return self._sign_in_page(
                request,
                error="The sign-in form expired: try again.",
                status=403,
                next_path=next_path,
            )
        started = self.sessions.sign_in(str(form.get("token") or ""))
        if started is None:
            return self._sign_in_page(
                request,
                error="That is not the admin token. It is in the server's data directory "
                "(admin-token), or run `cw dashboard` for a sign-in link.",
                status=401,
                next_path=next_path,
            )
        response = RedirectResponse(next_path, 303)
        auth.set_session_cookie(response, started.cookie)
        response.delete_cookie(auth.SIGN_IN_CSRF_COOKIE, path="/")
        return response

    async def sign_in_link(self, request: Request) -> Response:
        started = self.sessions.redeem_link_code(request.path_params["code"])
        if started is None:
            return self._sign_in_page(
                request,
                error="That sign-in link was already used or has expired: run "
                "`cw dashboard` again, or sign in with the admin token.",
                status=401,
            )
        # A page, not a redirect: a SameSite=Strict cookie set while following a link
        # from elsewhere is sent on the next same-site navigation, which this starts.
        response = self._render(request, "signed_in.html", {}, session=None)
        auth.set_session_cookie(response, started.cookie)
        return response

    async def sign_out(self, request: Request) -> Response:
        checked = await self._checked_form(request)
        if isinstance(checked, Response):
            return checked
        self.sessions.end(request.cookies.get(auth.SESSION_COOKIE))
        response = RedirectResponse("/signin", status_code=303)
        auth.clear_session_cookie(response)
        return response

    # --- the live stream -------------------------------------------------------------

    async def events(self, request: Request) -> Response:
        if auth.current_session(request, self.sessions) is None:
            return _unauthorized()
        cookie = request.cookies.get(auth.SESSION_COOKIE)
        page = self._watch_of(request.query_params.get("page"))
        stream = live.change_events(
            self.services.changes,
            lambda: self.sessions.find(cookie) is not None,
            sieve=None if page is None else live.Sieve(page, self.services),
        )
        return StreamingResponse(
            stream,
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    def _watch_of(self, page: str | None) -> watch.Watch | None:
        """What the page at ``page`` (a path, as the page's ``sse-connect`` names it)
        shows; None for no page known (its stream is told of everything)."""
        path = urlsplit(page or "").path
        scope = {"type": "http", "method": "GET", "path": path}
        for route, watch_of in self.watches:
            match, child = route.matches(scope)
            if match is Match.FULL:
                return watch_of(child["path_params"])
        return None

    # --- the route table -------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        services = self.services

        def query(request: Request, name: str) -> str | None:
            value = request.query_params.get(name)
            return value.strip() if value and value.strip() else None

        pages: dict[str, tuple[str, Callable[[Request], dict[str, Any]], str]] = {
            "/": ("overview.html", lambda r: views.overview(services), "/overview.json"),
            "/agents": ("agents.html", lambda r: views.agents(services), "/agents.json"),
            "/inbox": ("inbox.html", lambda r: views.inbox(services), "/inbox.json"),
            "/accounts": ("accounts.html", lambda r: views.accounts(services), "/accounts.json"),
            "/conversations": (
                "conversations.html",
                lambda r: views.conversations(
                    services,
                    agent=query(r, "agent"),
                    task=query(r, "task"),
                    status=query(r, "status"),
                ),
                "/conversations.json",
            ),
            "/agents/{agent_id}": (
                "agent.html",
                lambda r: views.agent(services, r.path_params["agent_id"]),
                "/agents/{agent_id}.json",
            ),
            "/initiatives/{initiative_id}": (
                "initiative.html",
                lambda r: views.initiative(services, r.path_params["initiative_id"]),
                "/initiatives/{initiative_id}.json",
            ),
            # The diff runs git: a live refresh (htmx) re-reads the task, not the diff.
            "/tasks/{task_id}": (
                "task.html",
                lambda r: views.task(
                    services,
                    r.path_params["task_id"],
                    read_diff=None
                    if r.headers.get("hx-request") == "true"
                    else self.review.read_diff,
                ),
                "/tasks/{task_id}.json",
            ),
        }
        routes: list[BaseRoute] = [
            Mount(
                "/static",
                app=StaticFiles(packages=[("crosswalk.server.web", "static")]),
                name="static",
            ),
            Route("/signin", self.sign_in_form, methods=["GET"]),
            Route("/signin", self.sign_in, methods=["POST"]),
            Route(SIGN_IN_PATH + "{code}", self.sign_in_link, methods=["GET"]),
            Route("/signout", self.sign_out, methods=["POST"]),
            Route("/events", self.events, methods=["GET"]),
            Route("/inbox/{message_id}/reply", self.reply, methods=["POST"]),
            Route("/tasks/{task_id}/approve", self.approve_task, methods=["POST"]),
            Route("/tasks/{task_id}/retry", self.retry_task, methods=["POST"]),
            Route("/tasks/{task_id}/reject", self.reject_task, methods=["POST"]),
            Route("/initiatives/{initiative_id}/push", self.push_initiative, methods=["POST"]),
            Route("/agents/{agent_id}/stop", self.stop_agent, methods=["POST"]),
            Route("/agents/{agent_id}/resume", self.resume_agent, methods=["POST"]),
            Route("/agents/{agent_id}/tell", self.tell_agent, methods=["POST"]),
        ]
        watches: dict[str, Callable[[dict[str, Any]], watch.Watch]] = {
            "/": lambda _: watch.overview(),
            "/agents": lambda _: watch.agents(),
            "/inbox": lambda _: watch.inbox(),
            "/accounts": lambda _: watch.accounts(),
            "/conversations": lambda _: watch.conversations(),
            "/agents/{agent_id}": lambda params: watch.agent(params["agent_id"]),
            "/initiatives/{initiative_id}": lambda p: watch.initiative(p["initiative_id"]),
            "/tasks/{task_id}": lambda params: watch.task(params["task_id"]),
        }
        # Twins first: "/agents/{agent_id}" would otherwise take "/agents/x.json".
        page_routes: list[BaseRoute] = []
        for path, (template, build, twin_path) in pages.items():
            html, twin = self.page(template, build)
            routes.append(Route(twin_path, twin, methods=["GET"]))
            page_route = Route(path, html, methods=["GET"])
            page_routes.append(page_route)
            self.watches.append((page_route, watches[path]))
        return routes + page_routes


def _as_wire_error(request: Request, exc: CrosswalkError) -> TrpcError:
    """The status and message the tRPC endpoint answers ``exc`` with: the one table
    from the error tree to HTTP statuses serves both, so a refused button and the same
    refused ``cw`` call agree."""
    return to_trpc_error(exc, request.url.path)


def _unauthorized() -> Response:
    return JSONResponse(
        {"error": "not signed in: open the dashboard and sign in with the admin token"},
        status_code=401,
    )


def _forbidden(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=403)


def _to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request") == "true":
        # htmx follows redirects in place; make it load the sign-in page instead.
        return Response(status_code=401, headers={"hx-redirect": "/signin"})
    return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)


def _next_of(request: Request) -> str:
    return _local_path(request.query_params.get("next")) or "/"


def _local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this server (never another site), else None."""
    if not value:
        return None
    parts = urlsplit(value)
    path = parts.path
    if parts.scheme or parts.netloc:
        return None
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def _path_of(url: str | None) -> str | None:
    """The path and query of a URL (a ``Referer``), without its origin."""
    if not url:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
