"""``cw mcp``: a stdio relay to the crosswalk server's MCP endpoint (``/mcp``).

For an MCP client that only starts stdio servers (or an agent started by hand): each
JSON-RPC line read from stdin is POSTed to the server's ``/mcp`` with the agent's token,
and what comes back (a JSON body, or the events of an SSE stream) is written to stdout,
one line per message. Every request is forwarded on a thread of its own, so an ``ask``
that waits for minutes does not hold up a ``pending`` sent meanwhile. The protocol is
served by the server (its MCP SDK); this side knows only enough of it to route a
message: a session id the server gives is sent back, and a request in the per-request
envelope of the 2026-07-28 revision gets the routing headers that revision asks for.
Standard library only, so it starts as fast as any ``cw`` command. See docs/mcp.md.
"""

from __future__ import annotations

import contextlib
import json
import threading

from crosswalk.cli.transport import BadResponseError, HttpConnection, HttpResponse, split_url

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see __init__)
if TYPE_CHECKING:
    from typing import Any, TextIO

#: Seconds to connect to the server before calling it unreachable.
CONNECT_TIMEOUT_S = 10.0
#: The JSON-RPC error code of a request the relay could not deliver.
UNDELIVERED = -32000
#: The ``_meta`` key of the 2026-07-28 revision's per-request envelope.
PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
#: Methods whose routing header ``Mcp-Name`` names one of their parameters.
NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}


class Relay:
    """Relays one client's stdio session to ``url`` with ``token``; ``trpc_url`` is
    what an unreachable server is called in the error (as ``cw`` calls it)."""

    def __init__(self, url: str, token: str | None, stdout: TextIO, *, trpc_url: str) -> None:
        self._scheme, self._host, port, self._path = split_url(url)
        self._port = port or (443 if self._scheme == "https" else 80)
        self._token = token
        self._trpc_url = trpc_url
        self._stdout = stdout
        self._writing = threading.Lock()
        self._session_id: str | None = None
        self._protocol_version: str | None = None

    def run(self, stdin: TextIO) -> None:
        """Relay until stdin closes. A call still in flight is abandoned then: its
        client has gone, and nobody would read its answer."""
        for line in stdin:
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as exc:
                self._write({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32700, "message": f"error: not a JSON-RPC message ({exc})",
                }})  # fmt: skip
                continue
            if isinstance(message, dict) and message.get("method") == "initialize":
                self.forward(message)  # at once: what follows carries its session id
            else:
                threading.Thread(target=self.forward, args=(message,), daemon=True).start()

    def forward(self, message: Any) -> None:
        """POST ``message``; write the messages of the response, or, for a request the
        server did not answer, a JSON-RPC error saying why."""
        request_id = message.get("id") if isinstance(message, dict) else None
        is_request = isinstance(message, dict) and "method" in message and "id" in message
        try:
            status, headers, replies = self._post(message)
        except (OSError, BadResponseError) as exc:
            if is_request:
                self._fail(
                    request_id,
                    f"error: cannot reach the crosswalk server at {self._trpc_url}: {exc}; "
                    "start it with 'cw serve' or set CW_URL",
                )
            return
        session = headers.get("mcp-session-id")
        if session:
            self._session_id = session
        for reply in replies:
            if not is_request and not (isinstance(reply, dict) and "method" in reply):
                continue  # a notification's refusal answers nobody
            if status >= 400 and is_request and isinstance(reply, dict) and "error" in reply:
                reply = {**reply, "id": request_id}  # the server's refusal names no request
            self._note_version(reply)
            self._write(reply)
        if is_request and not replies:
            self._fail(request_id, f"error: the crosswalk server answered HTTP {status} "
                       "with no MCP message")  # fmt: skip

    def _post(self, message: Any) -> tuple[int, dict[str, str], list[Any]]:
        """One POST on a connection of its own (requests overlap), read to its end."""
        connection = HttpConnection(
            self._host, self._port, tls=self._scheme == "https",
            connect_timeout_s=CONNECT_TIMEOUT_S,
        )  # fmt: skip
        try:
            connection.connect()
            connection.set_timeout(None)  # an ``ask`` waits as long as it was told to
            body = json.dumps(message).encode()
            response = connection.request("POST", self._path, self._headers(message), body)
            kind = (response.header("content-type") or "").split(";")[0].strip()
            if kind == "text/event-stream":
                return response.status, response.headers, list(_sse_messages(response))
            raw = response.read()
        finally:
            connection.close()
        if not raw.strip():
            return response.status, response.headers, []
        try:
            parsed = json.loads(raw)
        except ValueError:
            text = raw.decode("utf-8", "replace").strip()[:200]
            parsed = {"error": {"code": UNDELIVERED, "message": f"error: {text}"}}
        return response.status, response.headers, parsed if isinstance(parsed, list) else [parsed]

    def _headers(self, message: Any) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
        }
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        params = message.get("params") if isinstance(message, dict) else None
        meta = params.get("_meta") if isinstance(params, dict) else None
        if (
            isinstance(params, dict)
            and isinstance(meta, dict)
            and isinstance(meta.get(PROTOCOL_VERSION_KEY), str)
        ):
            # The per-request envelope: routed by headers that repeat the body.
            method = str(message.get("method"))
            headers["mcp-protocol-version"] = meta[PROTOCOL_VERSION_KEY]
            headers["mcp-method"] = method
            named = params.get(NAME_PARAMS.get(method, ""))
            if isinstance(named, str) and named.isascii():
                headers["mcp-name"] = named
            return headers
        if self._session_id:
            headers["mcp-session-id"] = self._session_id
        if self._protocol_version:
            headers["mcp-protocol-version"] = self._protocol_version
        return headers

    def _note_version(self, reply: Any) -> None:
        """The version ``initialize`` agreed on, which later requests must name."""
        result = reply.get("result") if isinstance(reply, dict) else None
        if isinstance(result, dict) and "protocolVersion" in result and "serverInfo" in result:
            self._protocol_version = str(result["protocolVersion"])

    def _fail(self, request_id: Any, message: str) -> None:
        self._write(
            {"jsonrpc": "2.0", "id": request_id, "error": {"code": UNDELIVERED, "message": message}}
        )

    def _write(self, message: Any) -> None:
        line = json.dumps(message, separators=(",", ":")) + "\n"
        with self._writing:
            try:
                self._stdout.write(line)
                self._stdout.flush()
            except (OSError, ValueError):  # the client closed its end: nobody reads
                pass


def _sse_messages(response: HttpResponse) -> Any:
    """The JSON messages of an SSE stream: each event's ``data`` lines joined (the
    subset a server sends: ``event``, ``id`` and ``retry`` lines and comments are
    skipped), until the stream ends."""
    data: list[str] = []
    while raw := response.readline():
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            text, data = "\n".join(data), []
            try:
                yield json.loads(text)
            except ValueError:
                continue
    if data:
        with contextlib.suppress(ValueError):
            yield json.loads("\n".join(data))
