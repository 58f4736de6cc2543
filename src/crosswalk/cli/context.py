"""What a command handler works with: resolved settings, streams, clock and a lazy client.

``Runtime`` is what the process provides (environment, streams, clock, how to build a
client); tests replace any part of it. ``Context`` is built per run from the parsed
arguments and the runtime, and creates the client only when a handler first asks for it,
so ``cw --version`` and usage errors never import the HTTP machinery.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping

from crosswalk import config
from crosswalk.cli.deadline import Backoff, Deadline
from crosswalk.cli.errors import UsageError
from crosswalk.cli.output import to_json, visible

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    import argparse
    from typing import Any, TextIO

    from crosswalk.cli.rpc import RpcClient

ClientFactory = Callable[[str, "str | None"], "RpcClient"]


def connect(url: str, token: str | None) -> RpcClient:
    """The real client, imported only when a command first talks to the server."""
    from crosswalk.cli.client import TrpcClient

    return TrpcClient(url, token)


class Runtime:
    """The process's environment, streams and clock, each replaceable in tests."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        client_factory: ClientFactory = connect,
    ) -> None:
        self.env = os.environ if env is None else env
        self.stdin = sys.stdin if stdin is None else stdin
        self.stdout = sys.stdout if stdout is None else stdout
        self.stderr = sys.stderr if stderr is None else stderr
        self.clock = clock
        self.sleep = sleep
        self.client_factory = client_factory


def _checked_token(token: str, source: str) -> str:
    token = token.strip()
    if token.isascii() and token.isprintable() and " " not in token:
        return token
    raise UsageError(
        f"the token in {source} has a character no token has (a space, a line break or a "
        "non-ASCII character): copy it again from 'cw agent register' or the admin-token "
        "file"
    )


class Context:
    """Settings resolved flag > environment > default, plus helpers every handler needs."""

    def __init__(self, args: argparse.Namespace, runtime: Runtime) -> None:
        env = runtime.env
        self.runtime = runtime
        self.json: bool = bool(getattr(args, "json", False))
        self.url: str = getattr(args, "url", None) or env.get("CW_URL") or config.DEFAULT_URL
        self.agent_id: str | None = (
            getattr(args, "agent_id", None) or env.get("CW_AGENT_ID") or None
        )
        self._token_flag: str | None = getattr(args, "token", None)
        self.stdin = runtime.stdin
        self.stdout = runtime.stdout
        self.stderr = runtime.stderr
        self._client: RpcClient | None = None
        #: ``(kind, what was typed)`` -> the initiative, phase or task it names.
        self.resolved: dict[tuple[str, str], dict[str, Any]] = {}

    # -- settings ---------------------------------------------------------------------

    def token(self) -> str | None:
        """``--token``, else ``$CW_TOKEN``, else the admin token file if this user can read it.

        A token that cannot be one (a space, a newline, a non-ASCII character: a copy
        and paste gone wrong) is a usage error naming where it came from."""
        if self._token_flag:
            return _checked_token(self._token_flag, "--token")
        from_env = self.runtime.env.get("CW_TOKEN")
        if from_env:
            return _checked_token(from_env, "CW_TOKEN")
        path = config.admin_token_path()
        try:
            found = path.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            return None
        return None if found is None else _checked_token(found, str(path))

    @property
    def client(self) -> RpcClient:
        """The server client, created on first use and closed by ``close``."""
        if self._client is None:
            try:
                self._client = self.runtime.client_factory(self.url, self.token())
            except ValueError as exc:
                raise UsageError(f"{exc} (set --url or CW_URL)") from None
        return self._client

    def require_agent_id(self) -> str:
        """Who "me" is; a usage error naming both ways to say it when unknown."""
        if not self.agent_id:
            raise UsageError(
                "no agent identity: this command acts as an agent; pass --as AGENT_ID "
                "or set CW_AGENT_ID"
            )
        return self.agent_id

    def read_text(self, value: str, what: str) -> str:
        """A text argument, or stdin when it is ``-``; empty text is a usage error.

        Blank lines around the text and trailing spaces go; the first line's indentation
        stays, so an answer that starts with a code block keeps its shape.
        """
        text = self.stdin.read() if value == "-" else value
        lines = text.rstrip().splitlines()
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            source = "stdin" if value == "-" else "the argument"
            raise UsageError(f"the {what} is empty (read from {source})")
        return "\n".join(lines)

    # -- time ---------------------------------------------------------------------------

    def now(self) -> float:
        return self.runtime.clock()

    def deadline(self, seconds: float | None) -> Deadline:
        return Deadline(self.runtime.clock, seconds)

    def backoff(self) -> Backoff:
        return Backoff(self.runtime.sleep)

    # -- output -------------------------------------------------------------------------

    # Every human line goes through ``visible``: text from the server was written by
    # agents, and a terminal must never obey escapes hidden in it. JSON is written as
    # is (``json.dumps`` already escapes the C0 controls), so programs get exact bytes.

    def out(self, text: str) -> None:
        """One line (or block) of normal output, for people."""
        self.stdout.write(visible(text) + "\n")

    def err(self, text: str) -> None:
        """A message for the person or agent running ``cw``, on stderr."""
        self.stderr.write(visible(text) + "\n")
        self.stderr.flush()

    def emit(self, value: Any, render: Callable[[Any], str]) -> None:
        """The command's result: one JSON document with ``--json``, else ``render(value)``."""
        if self.json:
            self.stdout.write(to_json(value) + "\n")
        else:
            self.out(render(value))

    def emit_streamed(self, value: Any, render: Callable[[Any], str]) -> None:
        """One item of a stream (``--follow``): a JSON line, or rendered text; flushed now."""
        if self.json:
            self.stdout.write(to_json(value, compact=True) + "\n")
        else:
            self.out(render(value))
        self.stdout.flush()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
