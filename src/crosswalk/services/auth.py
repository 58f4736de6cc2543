"""Who is calling: the admin token, per-agent tokens, and what each may do.

The admin token is created on the server's first start in ``<data dir>/admin-token``
(mode 0600), so the CLI of the same user on the same machine finds it. Agent
tokens are handed out once by ``agent.create``; only their SHA-256 is stored.

Every request of an agent presents its token, so the server keeps the agents its
tokens found in memory (:class:`TokenCache`) until the agent changes: any committed
change to an agent row (a new token, a new status, its deletion) comes with an
``EntityChanged("agent", id)`` event, and the change stream hands every event to the
cache as the unit of work commits, before the request that made the change is
answered. Other servers' changes arrive through the PostgreSQL relay; when it loses
its connection the cache is emptied (``ChangeStream.resync``).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from crosswalk.db.repositories import AgentRepository
from crosswalk.domain.errors import ForbiddenError, UnauthorizedError
from crosswalk.domain.events import EntityChanged, Event
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


class TokenCache:
    """Agents found by their token's hash, kept until the agent changes (see the module
    docstring); at most ``capacity`` of them, the least recently used dropped first.

    Any thread may use it. A lookup that read the database may only store what it
    read if no agent changed meanwhile (:meth:`epoch` before the read, :meth:`put`
    after): a deletion committed during the read must not be undone by the read's
    older row."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._agents: OrderedDict[str, Agent] = OrderedDict()  # token hash -> agent
        self._hash_of: dict[str, str] = {}  # agent id -> token hash
        self._epoch = 0

    def get(self, token_hash: str) -> Agent | None:
        with self._lock:
            agent = self._agents.get(token_hash)
            if agent is not None:
                self._agents.move_to_end(token_hash)
            return agent

    def by_id(self, agent_id: str) -> Agent | None:
        """The agent's row, if one of its requests put it here and it has not changed
        since: as current as a read (names shown beside questions come from here)."""
        with self._lock:
            token_hash = self._hash_of.get(agent_id)
            return None if token_hash is None else self._agents.get(token_hash)

    def epoch(self) -> int:
        return self._epoch

    def put(self, token_hash: str, agent: Agent, epoch: int) -> None:
        with self._lock:
            if epoch != self._epoch:
                return  # an agent changed since the read: it may be this one
            self._agents[token_hash] = agent
            self._hash_of[agent.id] = token_hash
            if len(self._agents) > self._capacity:
                _, dropped = self._agents.popitem(last=False)
                self._hash_of.pop(dropped.id, None)

    def observe(self, event: Event | None) -> None:
        """A committed event (forget the agent it changed), or None: events may have
        been missed (forget everything)."""
        if event is None:
            with self._lock:
                self._epoch += 1
                self._agents.clear()
                self._hash_of.clear()
        elif isinstance(event, EntityChanged) and event.entity == "agent":
            with self._lock:
                self._epoch += 1
                token_hash = self._hash_of.pop(event.id, None)
                if token_hash is not None:
                    self._agents.pop(token_hash, None)

    def __len__(self) -> int:
        return len(self._agents)


class Authenticator:
    """Turns an ``authorization`` header into a :class:`Principal`."""

    def __init__(
        self, admin_token: str, agents: AgentRepository, cache: TokenCache | None = None
    ) -> None:
        self._admin_token = admin_token
        self._agents = agents
        self.cache = cache if cache is not None else TokenCache()

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller, reading the database when its token is not cached."""
        found = self._without_reading(authorization)
        if isinstance(found, Principal):
            return found
        epoch = self.cache.epoch()
        agent = self._agents.find_by_token_hash(found)
        if agent is None:
            raise UnauthorizedError("the token is not valid (unknown or revoked)")
        self.cache.put(found, agent, epoch)
        return Principal(agent_id=agent.id, agent=agent)

    def known(self, authorization: str | None) -> Principal | None:
        """The caller if no database read is needed to tell (the admin, or a cached
        agent token), else None. Refuses malformed credentials as ``authenticate``."""
        found = self._without_reading(authorization)
        return found if isinstance(found, Principal) else None

    def _without_reading(self, authorization: str | None) -> Principal | str:
        """The caller when the admin token or the cache tells; else the token's hash,
        to look up."""
        token = _token(authorization)
        if hmac.compare_digest(token.encode(), self._admin_token.encode()):
            return ADMIN
        token_hash = hash_token(token)
        agent = self.cache.get(token_hash)
        return token_hash if agent is None else Principal(agent_id=agent.id, agent=agent)


def _token(authorization: str | None) -> str:
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
    return token
