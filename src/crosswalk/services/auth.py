"""Who is calling: the admin token, per-agent tokens, and what each may do.

The admin token is created on the server's first start in ``<data dir>/admin-token``
(mode 0600), so the CLI of the same user on the same machine finds it. Agent
tokens are handed out once by ``agent.create``; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from crosswalk.db.repositories import AgentRepository
from crosswalk.domain.errors import ForbiddenError, UnauthorizedError
from crosswalk.domain.rows import Agent

TOKEN_PREFIX = "cw_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def valid_token_text(token: str) -> bool:
    """Whether ``token`` could be a token at all: printable ASCII, no spaces."""
    return token.isascii() and token.isprintable() and " " not in token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_or_create_admin_token(path: Path) -> str:
    """Read the admin token, creating it (mode 0600, atomically) on first start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text().strip()
        if token:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)  # never leave the admin token readable by others
            return token
        path.unlink()
        return load_or_create_admin_token(path)
    token = new_token()
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: the administrator (``agent_id`` None) or one agent, with the agent's
    row as its token found it (``agent``), so the request need not read it again."""

    agent_id: str | None
    agent: Agent | None = field(default=None, compare=False, repr=False)

    def known(self, agent_id: str) -> Agent | None:
        """The caller's own row when ``agent_id`` is the caller, else None."""
        agent = self.agent
        return agent if agent is not None and agent.id == agent_id else None

    @property
    def is_admin(self) -> bool:
        return self.agent_id is None

    def require_agent(self, agent_id: str) -> None:
        """An agent token acts only as that agent."""
        if self.agent_id is not None and self.agent_id != agent_id:
            raise ForbiddenError(
                f"this token belongs to agent '{self.agent_id}' and cannot act as '{agent_id}'"
            )

    def require_admin(self, action: str) -> None:
        if self.agent_id is not None:
            raise ForbiddenError(f"only the administrator may {action}; this is an agent token")

    def require_any(self, agent_ids: tuple[str, ...], what: str) -> None:
        if self.agent_id is not None and self.agent_id not in agent_ids:
            raise ForbiddenError(f"agent '{self.agent_id}' is not part of {what}")


ADMIN = Principal(agent_id=None)


class Authenticator:
    def __init__(self, admin_token: str, agents: AgentRepository) -> None:
        self._admin_token = admin_token
        self._agents = agents

    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise UnauthorizedError(
                "missing credentials: send 'authorization: Bearer <token>' "
                "(the admin token is in the server's data directory, agent tokens "
                "come from agent.create)"
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise UnauthorizedError("the authorization header must be 'Bearer <token>'")
        if not valid_token_text(token):
            raise UnauthorizedError(
                "the token is malformed: tokens are printable ASCII without spaces; "
                "copy it again from the admin-token file or from agent.create"
            )
        if hmac.compare_digest(token.encode(), self._admin_token.encode()):
            return ADMIN
        agent = self._agents.find_by_token_hash(hash_token(token))
        if agent is None:
            raise UnauthorizedError("the token is not valid (unknown or revoked)")
        return Principal(agent_id=agent.id, agent=agent)
