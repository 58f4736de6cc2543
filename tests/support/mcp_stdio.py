"""The MCP protocol spoken directly to ``cw mcp``: JSON-RPC lines over its stdin/stdout.

No SDK on this side, on purpose: the test sees the bytes a client such as Claude Code
or Codex sends and receives. Requests may overlap (``send`` returns the id; ``receive``
waits for that id's response, keeping others), as a client calling tools in parallel does.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "2025-11-25"


class McpError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


class McpStdio:
    """A started ``cw mcp`` (or any argv); ``close()`` ends it by its pid."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._kept: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def send(self, method: str, params: dict[str, Any] | None = None) -> int:
        self._next_id += 1
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return self._next_id

    def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)

    def _write(self, message: dict[str, Any]) -> None:
        if message.get("params") is None:
            message.pop("params", None)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self, request_id: int, timeout: float = 60) -> dict[str, Any]:
        """The response to ``request_id``: its ``result``, or ``McpError``."""
        deadline = time.monotonic() + timeout
        while request_id not in self._kept:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                raise TimeoutError(f"no response to request {request_id} in {timeout} s") from None
            if line is None:
                raise EOFError(f"cw mcp ended: {self.stderr()}")
            message = json.loads(line)
            if "id" in message and "method" not in message:
                self._kept[message["id"]] = message
            else:
                self.notifications.append(message)
        response = self._kept.pop(request_id)
        if "error" in response:
            raise McpError(response["error"])
        result: dict[str, Any] = response["result"]
        return result

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.receive(self.send(method, params))

    def initialize(self) -> dict[str, Any]:
        """The handshake: ``initialize``, then ``notifications/initialized``."""
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "crosswalk-tests", "version": "1"},
            },
        )
        self.notify("notifications/initialized")
        return result

    def call_tool(self, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.request("tools/call", {"name": name, "arguments": arguments or {}})

    def stderr(self) -> str:
        if self.process.poll() is None or self.process.stderr is None:
            return ""
        return self.process.stderr.read()

    def close(self) -> None:
        """Close stdin (how a client ends a stdio server), then make sure it ended."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def text_of(result: dict[str, Any]) -> str:
    """The text content of a ``tools/call`` result."""
    return "\n".join(block["text"] for block in result["content"] if block["type"] == "text")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CW_")}
    env.update(extra)
    return env
