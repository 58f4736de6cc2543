"""Sessions in the browser and the checks every request passes.

- A page needs a session cookie; without one, HTML requests are sent to the sign-in
  page and everything else (JSON twins, the live stream) gets 401.
- Every POST must come from this dashboard: its ``Origin`` (or, lacking one,
  ``Referer``) must be this server's own origin, and its form must carry the
  session's CSRF token. The sign-in form, posted before there is a session, carries
  a token that must match a cookie set with the form (double submit).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from crosswalk.services.sessions import SESSION_TTL_S, Session, SessionStore

SESSION_COOKIE = "cw_session"
SIGN_IN_CSRF_COOKIE = "cw_signin_csrf"
CSRF_FIELD = "csrf"


def current_session(request: Request, sessions: SessionStore) -> Session | None:
    return sessions.find(request.cookies.get(SESSION_COOKIE))


def set_session_cookie(response: Response, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL_S),
        path="/",
        httponly=True,
        samesite="strict",
        secure=False,  # the server speaks plain HTTP on loopback; see docs/dashboard.md
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def new_sign_in_csrf(response: Response) -> str:
    token = secrets.token_urlsafe(32)
    response.set_cookie(
        SIGN_IN_CSRF_COOKIE, token, max_age=3600, path="/", httponly=True, samesite="strict"
    )
    return token


def same_origin(request: Request) -> bool:
    """Whether the POST comes from a page of this server (``Origin``, else ``Referer``)."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    parts = urlsplit(claimed)
    own = urlsplit(str(request.base_url))
    return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)


def csrf_matches(expected: str | None, sent: object) -> bool:
    if not expected or not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
