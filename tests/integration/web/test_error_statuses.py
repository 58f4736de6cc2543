"""One error, one HTTP status: the dashboard and the tRPC endpoint answer alike.

The cases are generated from the error tree (``crosswalk.domain.errors``), so a class
added to it is checked here without anyone remembering to list it: the same service
failure is raised under a tRPC query and under the dashboard's page and JSON twin that
read the same thing, and the three statuses must be equal.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
from tests.integration.web.test_dashboard_app import admin_token, browser, signed_in

from crosswalk.domain import errors
from crosswalk.server.app import CrosswalkApp, create_app
from crosswalk.server.trpc import ERROR_CODES, error_code_for
from crosswalk.services.human_questions import HumanQuestionService


def _error_tree() -> list[type[errors.CrosswalkError]]:
    found: list[type[errors.CrosswalkError]] = []
    pending: list[type[errors.CrosswalkError]] = [errors.CrosswalkError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(
        (cls for cls in found if cls.__module__ == errors.__name__), key=lambda c: c.__name__
    )


def _instance(cls: type[errors.CrosswalkError]) -> errors.CrosswalkError:
    """One of ``cls``, each required argument a string (they all are: messages, ids)."""
    required = [
        p
        for p in inspect.signature(cls).parameters.values()
        if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
    ]
    return cls(*(f"{cls.__name__} {p.name}" for p in required))


ERROR_TREE = _error_tree()
#: Errors raised before the server serves anyone; every other class must reach a client
#: with a status of its own, never as an internal error.
NEVER_SENT = {errors.StartupError, errors.InvalidSettingError}


def test_the_tree_is_walked() -> None:
    names = {cls.__name__ for cls in ERROR_TREE}
    assert {"CrosswalkError", "LimitExceededError", "PayloadTooLargeError"} <= names
    assert set(ERROR_TREE) >= NEVER_SENT


@pytest.mark.parametrize(
    "cls",
    [cls for cls in ERROR_TREE if cls not in NEVER_SENT and cls is not errors.CrosswalkError],
    ids=lambda cls: cls.__name__,
)
def test_every_error_a_client_can_see_has_a_status_of_its_own(
    cls: type[errors.CrosswalkError],
) -> None:
    key = error_code_for(_instance(cls))
    assert key != "INTERNAL_SERVER_ERROR", f"{cls.__name__}: add it to DOMAIN_ERROR_KEYS"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CrosswalkApp, str]]:
    tmp_path = tmp_path_factory.mktemp("statuses")
    app = create_app(f"sqlite:///{tmp_path / 'cw.db'}", admin_token_file=tmp_path / "admin-token")
    try:
        yield app, admin_token(app, tmp_path)
    finally:
        app.close()


@pytest.mark.parametrize("cls", ERROR_TREE, ids=lambda cls: cls.__name__)
def test_the_dashboard_answers_an_error_with_the_status_trpc_gives_it(
    served: tuple[CrosswalkApp, str],
    monkeypatch: pytest.MonkeyPatch,
    cls: type[errors.CrosswalkError],
) -> None:
    app, token = served
    expected = ERROR_CODES[error_code_for(_instance(cls))][1]

    def refuse(self: HumanQuestionService) -> None:
        raise _instance(cls)

    async def scenario() -> None:
        async with browser(app) as client:
            await signed_in(client, token)  # reads the inbox: before it refuses
            monkeypatch.setattr(HumanQuestionService, "inbox", refuse)
            over_trpc = await client.get(
                "/trpc/message.inbox", headers={"authorization": f"Bearer {token}"}
            )
            page = await client.get("/inbox")
            twin = await client.get("/inbox.json")
            statuses = {
                "trpc": over_trpc.status_code,
                "page": page.status_code,
                "twin": twin.status_code,
            }
            assert statuses == {"trpc": expected, "page": expected, "twin": expected}
            assert over_trpc.json()["error"]["data"]["httpStatus"] == expected
            assert twin.json()["error"] == over_trpc.json()["error"]["message"]

    asyncio.run(scenario())
