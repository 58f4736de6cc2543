"""In-memory stand-ins for the server client and the clock, for unit tests of ``cw``."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from crosswalk.cli.context import Runtime
from crosswalk.cli.main import run


class FakeClock:
    """Monotonic time that moves only when told to (or when someone sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Response = Any  # a value, an exception instance to raise, or a callable(input) -> either


class FakeClient:
    """Answers each procedure from a script; the last scripted response repeats."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.timeouts: list[float | None] = []
        self.scripts: dict[str, deque[Response]] = {}
        self.streams: deque[Sequence[Any]] = deque()
        self.closed = False

    def on(self, path: str, *responses: Response) -> FakeClient:
        self.scripts.setdefault(path, deque()).extend(responses)
        return self

    def stream(self, *items: Any) -> FakeClient:
        """Script one subscription: ``(id, value)`` pairs, optionally ending in an exception."""
        self.streams.append(items)
        return self

    def _respond(self, kind: str, path: str, input: Any) -> Any:
        if path.endswith(".resolve") and path not in self.scripts:
            # Unless a test scripts it, every initiative, phase or task named is found
            # under the id it was given (and the lookup is not among ``calls``).
            return {"id": input["ref"]}
        self.calls.append((kind, path, input))
        script = self.scripts.get(path)
        if not script:
            raise AssertionError(f"unexpected call to {path}")
        response = script.popleft() if len(script) > 1 else script[0]
        if callable(response):
            response = response(input)
        if isinstance(response, BaseException):
            raise response
        return response

    def query(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        self.timeouts.append(timeout_s)
        return self._respond("query", path, input)

    def mutation(self, path: str, input: Any = None, *, timeout_s: float | None = None) -> Any:
        self.timeouts.append(timeout_s)
        return self._respond("mutation", path, input)

    def subscribe(
        self,
        path: str,
        input: Any = None,
        *,
        last_event_id: str | None = None,
        deadline: float | None = None,
    ) -> Iterator[tuple[str | None, Any]]:
        self.calls.append(("subscribe", path, {"input": input, "lastEventId": last_event_id}))
        items = self.streams.popleft()

        def events() -> Iterator[tuple[str | None, Any]]:
            for item in items:
                if isinstance(item, BaseException):
                    raise item
                yield item

        return events()

    def close(self) -> None:
        self.closed = True

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.calls]


class Result(NamedTuple):
    code: int
    out: str
    err: str


class Cw:
    """Runs ``cw`` in-process against a ``FakeClient`` and a ``FakeClock``."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.client = FakeClient()
        self.clock = FakeClock()
        self.env = {"CW_AGENT_ID": "me", "CW_TOKEN": "t0k", **(env or {})}
        self.factory_args: list[tuple[str, str | None]] = []

    def _factory(self, url: str, token: str | None) -> FakeClient:
        self.factory_args.append((url, token))
        return self.client

    def __call__(self, *argv: str, stdin: str = "") -> Result:
        out, err = io.StringIO(), io.StringIO()
        runtime = Runtime(
            env=self.env,
            stdin=io.StringIO(stdin),
            stdout=out,
            stderr=err,
            clock=self.clock,
            sleep=self.clock.sleep,
            client_factory=self._factory,
        )
        code = run(list(argv), runtime)
        return Result(code, out.getvalue(), err.getvalue())


def conversation(cid: str = "c1", status: str = "pending", **fields: Any) -> dict[str, Any]:
    base = {
        "id": cid,
        "fromAgentId": "me",
        "toAgentId": "helper",
        "initiativeId": None,
        "phaseId": None,
        "taskId": None,
        "question": "q?",
        "answer": "the answer" if status == "answered" else None,
        "status": status,
        "createdAt": "2026-11-26T06:55:43.764Z",
        "updatedAt": "2026-11-26T06:55:43.764Z",
    }
    return {**base, **fields}


def long_poll_pending(clock: FakeClock, value: Any) -> Callable[[Any], Any]:
    """A long poll that holds for its whole ``timeoutMs`` and returns ``value``."""

    def respond(input: Any) -> Any:
        clock.advance(input["timeoutMs"] / 1000)
        return value

    return respond
