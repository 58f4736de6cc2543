"""Who is signed in to the dashboard: one-time sign-in links and browser sessions.

The person signs in with the admin token once: by posting it in the sign-in form, or
by opening a one-time link that ``cw dashboard`` asks the server for (``dashboard.
signInLink``, admin only). Either way the browser gets a session: a random id in an
HttpOnly, SameSite=Strict cookie, plus a CSRF token that every form of the session
carries. Only hashes are kept: of link codes in memory (a link does not outlive the
server), of session ids in ``<data dir>/dashboard-sessions.json`` (mode 0600), so a
browser stays signed in across a restart of the server and a sign-out stays one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from crosswalk.domain.clock import SYSTEM_CLOCK, Clock

#: How long a sign-in link works (it also works only once).
LINK_TTL_S = 120.0
#: How long a session lasts after it is created.
SESSION_TTL_S = 12 * 3600.0


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser. ``csrf`` goes into every form the session is shown."""

    csrf: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class NewSession:
    """What the browser gets once: the cookie value, and the session it names."""

    cookie: str
    session: Session


class SessionStore:
    """Sign-in links and sessions of one server process."""

    def __init__(
        self,
        admin_token: str,
        *,
        path: Path | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._admin_token = admin_token
        self._path = path
        self._clock = clock
        self._links: dict[str, float] = {}
        self._sessions: dict[str, Session] = self._load()

    def _epoch(self) -> float:
        """Wall time as epoch seconds, the form expiries are stored in."""
        return self._clock.now().timestamp()

    def token_is_admin(self, token: str) -> bool:
        """Whether ``token`` is the admin token (compared in constant time)."""
        return hmac.compare_digest(token.strip().encode(), self._admin_token.encode())

    def create_link_code(self) -> str:
        """A code that signs a browser in once within ``LINK_TTL_S``."""
        self._forget_expired()
        code = secrets.token_urlsafe(32)
        self._links[_digest(code)] = self._epoch() + LINK_TTL_S
        return code

    def redeem_link_code(self, code: str) -> NewSession | None:
        """A new session for a valid, unused, unexpired code; the code is spent."""
        expires_at = self._links.pop(_digest(code), None)
        if expires_at is None or expires_at < self._epoch():
            return None
        return self.start()

    def sign_in(self, token: str) -> NewSession | None:
        """A new session if ``token`` is the admin token, else None."""
        return self.start() if self.token_is_admin(token) else None

    def start(self) -> NewSession:
        self._forget_expired()
        cookie = secrets.token_urlsafe(32)
        session = Session(csrf=secrets.token_urlsafe(32), expires_at=self._epoch() + SESSION_TTL_S)
        self._sessions[_digest(cookie)] = session
        self._save()
        return NewSession(cookie=cookie, session=session)

    def find(self, cookie: str | None) -> Session | None:
        """The live session this cookie names, if any."""
        if not cookie:
            return None
        session = self._sessions.get(_digest(cookie))
        if session is None or session.expires_at < self._epoch():
            return None
        return session

    def end(self, cookie: str | None) -> None:
        """Sign out: the cookie names no session any more."""
        if cookie and self._sessions.pop(_digest(cookie), None) is not None:
            self._save()

    def _forget_expired(self) -> None:
        now = self._epoch()
        self._links = {k: t for k, t in self._links.items() if t >= now}
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at >= now}

    def _load(self) -> dict[str, Session]:
        if self._path is None:
            return {}
        try:
            stored = json.loads(self._path.read_text())
            now = self._epoch()
            return {
                key: Session(csrf=str(value["csrf"]), expires_at=float(value["expires_at"]))
                for key, value in stored.items()
                if float(value["expires_at"]) >= now
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}  # missing or unreadable: everyone signs in again

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        partial = self._path.with_name(self._path.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({key: asdict(s) for key, s in self._sessions.items()}, handle)
        partial.replace(self._path)
