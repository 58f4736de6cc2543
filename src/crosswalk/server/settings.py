"""The server's settings: one typed object, read from the environment once at start.

``cw serve`` (and ``create_app`` when given none) reads ``ServerSettings.from_environ``
once; the composition root hands each part the values it uses (``limits()``,
``runner(...)``, ``database_threads()``...), so nothing below the server reads the
environment. A value the server cannot use stops it at start with one message naming
the variable, the value and what is accepted, and one exit code
(``InvalidSettingError``, 11). An empty variable counts as unset.

Each field's alias is its variable; its description, accepted values and shown default
make ``docs/settings.md`` (``python -m crosswalk.server.settings > docs/settings.md``),
and a test keeps that file and this object in step. The ``cw`` client's own settings
(``CW_URL``, ``CW_TOKEN``, ``CW_AGENT_ID``) stay in ``crosswalk.config`` and the CLI,
standard library only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crosswalk.config import DEFAULT_URL
from crosswalk.db.engine import DEFAULT_POOL_SIZE
from crosswalk.domain.errors import InvalidSettingError
from crosswalk.runner.providers.claude import DEFAULT_PERMISSION_MODE
from crosswalk.runner.providers.codex import DEFAULT_SANDBOX
from crosswalk.runner.settings import (
    DEFAULT_ANSWER_TIMEOUT_S,
    DEFAULT_MAX_ANSWERING,
    DEFAULT_SERVER_LEASE_S,
    DEFAULT_STOP_GRACE_S,
    RunnerSettings,
    default_max_agents,
    with_cw_on_path,
)
from crosswalk.services.idle_watch import DEFAULT_IDLE_AFTER_S
from crosswalk.services.limits import DEFAULT_MAX_PENDING_QUESTIONS, DEFAULT_PAGE_SIZE, Limits

#: The ``cw`` client's identity: an agent gets its own (``CW_URL``, ``CW_AGENT_ID``,
#: ``CW_TOKEN``), never the server's.
CLIENT_ENV = frozenset({"CW_URL", "CW_TOKEN", "CW_AGENT_ID"})

_ACCEPTED = "accepted"
_SHOWN_DEFAULT = "shown_default"


def _setting(
    variable: str,
    default: Any,
    *,
    meaning: str,
    accepted: str,
    shown_default: str | None = None,
    **constraints: Any,
) -> Any:
    """A field read from ``variable``: what it means, the values accepted (said when a
    value is refused) and the default as the docs show it."""
    return Field(
        default,
        alias=variable,
        description=meaning,
        json_schema_extra={
            _ACCEPTED: accepted,
            _SHOWN_DEFAULT: shown_default if shown_default is not None else f"{default:g}",
        },
        **constraints,
    )


_WHOLE_1_TO_100000 = "a whole number from 1 to 100000"


class ServerSettings(BaseModel):
    """Every ``CW_*`` variable the server reads. Tests build one directly
    (``ServerSettings(page_size=2)``); ``cw serve`` reads it from the environment."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    home: Path | None = _setting(
        "CW_HOME",
        None,
        meaning="the data directory: the SQLite database, the admin token, the secret key, "
        "dashboard sessions, and the agents' clones, worktrees and output files",
        accepted="a directory path",
        shown_default="`~/.crosswalk`",
    )
    database_url: str | None = _setting(
        "CW_DATABASE_URL",
        None,
        meaning="the database (`cw serve --db` wins over it); several servers share one "
        "PostgreSQL database (docs/deploy.md)",
        accepted="a SQLAlchemy URL: `sqlite:///PATH` or "
        "`postgresql+psycopg://USER:PASSWORD@HOST:5432/DB`",
        shown_default="`crosswalk.db` (SQLite) in the data directory",
    )
    server_id: str | None = _setting(
        "CW_SERVER_ID",
        None,
        meaning="this server's name in a deployment: recorded on the agents it runs, so a "
        "restarted server reconciles only its own; keep it stable across restarts",
        accepted="any text",
        shown_default="`<host name>:<port>`",
    )
    secret_key: str | None = _setting(
        "CW_SECRET_KEY",
        None,
        meaning="the keys account secrets are encrypted with, newest first, comma-separated "
        "(give every server of a deployment the same; docs/security.md)",
        accepted="Fernet keys (32 url-safe base64-encoded bytes each)",
        shown_default="`secret-key` in the data directory",
        repr=False,
    )
    db_pool_size: int = _setting(
        "CW_DB_POOL_SIZE",
        DEFAULT_POOL_SIZE,
        meaning="connections each server keeps to PostgreSQL; raise it when many requests "
        "write at once",
        accepted="a whole number of at least 1",
        ge=1,
    )
    db_threads: int | None = _setting(
        "CW_DB_THREADS",
        None,
        meaning="worker threads running a server's queries on PostgreSQL. Each hop to a "
        "thread costs CPU, and more threads per core cost more (on 2 cores with a local "
        "PostgreSQL, 4 threads carried 1.3 times the conversations of 10, at 0.7 times the "
        "CPU each: docs/performance.md); raise it when the database is far away and "
        "requests wait for a free thread",
        accepted="a whole number of at least 1",
        shown_default="twice the CPUs the server may use, at most `CW_DB_POOL_SIZE`",
        ge=1,
    )
    max_pending_questions: int = _setting(
        "CW_MAX_PENDING_QUESTIONS",
        DEFAULT_MAX_PENDING_QUESTIONS,
        meaning="unanswered questions one agent may have open to one target (another "
        "agent, or the person); the next ask is refused with TOO_MANY_REQUESTS",
        accepted=_WHOLE_1_TO_100000,
        ge=1,
        le=100_000,
    )
    page_size: int = _setting(
        "CW_PAGE_SIZE",
        DEFAULT_PAGE_SIZE,
        meaning="the most questions one `conversation.listen` or `conversation.pending` "
        "call returns (and one read of `onQuestion`)",
        accepted=_WHOLE_1_TO_100000,
        ge=1,
        le=100_000,
    )
    agent_idle_after_s: float = _setting(
        "CW_AGENT_IDLE_AFTER_S",
        DEFAULT_IDLE_AFTER_S,
        meaning="seconds without a hook report after which an agent registered by hand is "
        "shown `idle` (docs/hooks.md)",
        accepted="a number of seconds from 1 to 86400",
        ge=1,
        le=86_400,
    )
    claude_path: str | None = _setting(
        "CW_CLAUDE_PATH",
        None,
        meaning="the `claude` executable",
        accepted="a path",
        shown_default="`claude` on the server's PATH",
    )
    codex_path: str | None = _setting(
        "CW_CODEX_PATH",
        None,
        meaning="the `codex` executable",
        accepted="a path",
        shown_default="`codex` on the server's PATH",
    )
    claude_permission_mode: str | None = _setting(
        "CW_CLAUDE_PERMISSION_MODE",
        None,
        meaning="Claude Code's permission mode: `acceptEdits` (edits in the worktree, `cw` "
        "and crosswalk's MCP tools allowed) or `bypassPermissions` (unattended; as root "
        "Claude also needs `IS_SANDBOX=1`)",
        accepted="a permission mode of Claude Code",
        shown_default=f"`{DEFAULT_PERMISSION_MODE}`",
    )
    codex_sandbox: str | None = _setting(
        "CW_CODEX_SANDBOX",
        None,
        meaning="Codex's sandbox: `workspace-write` or `danger-full-access`",
        accepted="a sandbox mode of Codex",
        shown_default=f"`{DEFAULT_SANDBOX}`",
    )
    agent_stop_grace_s: float = _setting(
        "CW_AGENT_STOP_GRACE_S",
        DEFAULT_STOP_GRACE_S,
        meaning="seconds from SIGTERM to SIGKILL when an agent is stopped",
        accepted="a number of seconds from 0 to 3600",
        ge=0,
        le=3600,
    )
    max_answering: int = _setting(
        "CW_MAX_ANSWERING",
        DEFAULT_MAX_ANSWERING,
        meaning="answering runs (idle agents resumed to answer) at once on this server; "
        "more wait their turn (docs/runner.md)",
        accepted="a whole number from 1 to 1000",
        ge=1,
        le=1000,
    )
    answer_timeout_s: float = _setting(
        "CW_ANSWER_TIMEOUT_S",
        DEFAULT_ANSWER_TIMEOUT_S,
        meaning="seconds an answering run may take before it is stopped and its questions "
        "abandoned",
        accepted="a number of seconds from 1 to 86400",
        ge=1,
        le=86_400,
    )
    max_agents: int | None = _setting(
        "CW_MAX_AGENTS",
        None,
        meaning="agents this server runs at once: dispatch places no more on it (docs/deploy.md)",
        accepted="a whole number from 1 to 1000",
        shown_default="two per CPU the server may use, at most one per 512 MiB of memory",
        ge=1,
        le=1000,
    )
    server_lease_s: float = _setting(
        "CW_SERVER_LEASE_S",
        DEFAULT_SERVER_LEASE_S,
        meaning="seconds without a heartbeat after which a server of the deployment is "
        "dead: another server marks its running agents crashed and hands their tasks "
        "back to dispatch (docs/deploy.md)",
        accepted="a number of seconds from 2 to 3600",
        ge=2,
        le=3600,
    )
    #: The environment agents start from: the server's own without crosswalk's settings
    #: and client identity (``server_only_variables``). Not a variable of its own.
    agent_env: Mapping[str, str] = Field(default_factory=dict, exclude=True, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServerSettings:
        """The settings ``environ`` gives; a value the server cannot use is an
        ``InvalidSettingError`` naming the variable, the value and what is accepted."""
        variables = variables_of()
        given = {name: environ[name] for name in variables if environ.get(name)}
        inherited = {k: v for k, v in environ.items() if k not in server_only_variables()}
        try:
            return cls.model_validate({**given, "agent_env": inherited})
        except ValidationError as exc:
            variable = str(exc.errors()[0]["loc"][0])
            accepted = _extra(cls.model_fields[variables[variable]], _ACCEPTED)
            raise InvalidSettingError(
                variable,
                f"{variable}={given[variable]!r} is not {accepted}; fix or unset it",
            ) from None

    @property
    def data_dir(self) -> Path:
        return (self.home or Path("~/.crosswalk")).expanduser()

    def database(self) -> str:
        """The database URL: ``CW_DATABASE_URL``, else SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'crosswalk.db'}"

    def server_name(self, port: int) -> str:
        """``CW_SERVER_ID``, else ``<host name>:<port>``: the same across restarts, so a
        restarted server finds the agents it runs."""
        return self.server_id or f"{os.uname().nodename}:{port}"

    def database_threads(self) -> int:
        """``CW_DB_THREADS``, else twice the CPUs this process may use, at most the pool
        size: the threads wait on the network with the GIL released, but each hop to one
        and back costs CPU, and the more threads per core the more of it goes to
        switching (docs/performance.md)."""
        if self.db_threads is not None:
            return self.db_threads
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return min(self.db_pool_size, 2 * (cpus or os.cpu_count() or 1))

    def limits(self) -> Limits:
        return Limits(max_pending_questions=self.max_pending_questions, page_size=self.page_size)

    def runner(
        self,
        *,
        server_url: str = DEFAULT_URL,
        server_id: str | None = None,
        stop_agents_on_exit: bool = False,
        worker: bool = False,
        share_branches: bool = False,
    ) -> RunnerSettings:
        """The runner's part, with what ``cw serve`` adds from its flags (``--worker``)
        and its database (several servers share their work on PostgreSQL)."""
        executables = {"claude": self.claude_path, "codex": self.codex_path}
        modes = {"claude": self.claude_permission_mode, "codex": self.codex_sandbox}
        base_env = dict(self.agent_env)
        base_env["PATH"] = with_cw_on_path(base_env.get("PATH", ""))
        return RunnerSettings(
            data_dir=self.data_dir,
            server_url=server_url,
            server_id=server_id,
            executables={name: path for name, path in executables.items() if path},
            permission_modes={name: mode for name, mode in modes.items() if mode},
            stop_grace_s=self.agent_stop_grace_s,
            stop_agents_on_exit=stop_agents_on_exit,
            base_env=base_env,
            max_answering=self.max_answering,
            answer_timeout_s=self.answer_timeout_s,
            max_agents=self.max_agents or default_max_agents(),
            lease_s=self.server_lease_s,
            worker=worker,
            share_branches=share_branches,
        )


def variables_of() -> dict[str, str]:
    """Each variable the server reads, to the name of its field."""
    return {
        str(field.alias): name
        for name, field in ServerSettings.model_fields.items()
        if field.alias is not None
    }


def server_only_variables() -> frozenset[str]:
    """What agents never inherit from the server: its settings and the client's identity
    (an agent gets its own ``CW_URL``, ``CW_AGENT_ID`` and ``CW_TOKEN``)."""
    return CLIENT_ENV | frozenset(variables_of())


def _extra(field: Any, key: str) -> str:
    extra = field.json_schema_extra
    assert isinstance(extra, dict)
    return str(extra[key])


HEADER = """\
# Server settings

Generated from `crosswalk.server.settings.ServerSettings` by
`python -m crosswalk.server.settings > docs/settings.md`; a test keeps this file and the
code in step.

`cw serve` reads these environment variables once, when it starts. An empty variable
counts as unset. A value the server cannot use stops it before it serves anything, with
one message naming the variable, the value and what is accepted, and exit code 11
(README, "Exit codes of cw serve"). Agents the server starts inherit its environment
without these variables and without `CW_URL`, `CW_TOKEN` and `CW_AGENT_ID` (each agent
gets its own: docs/runner.md).

The `cw` client's settings (`CW_URL`, `CW_TOKEN`, `CW_AGENT_ID`, and `CW_HOME` for the
admin token file) are in the README's "Configuration".

| variable | meaning | accepted | default |
|---|---|---|---|
"""


def markdown() -> str:
    """``docs/settings.md``: one row per variable."""
    rows = []
    for field in ServerSettings.model_fields.values():
        if field.alias is None:
            continue
        meaning = str(field.description).replace("|", "\\|")
        rows.append(
            f"| `{field.alias}` | {meaning} | {_extra(field, _ACCEPTED)} "
            f"| {_extra(field, _SHOWN_DEFAULT)} |"
        )
    return HEADER + "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
