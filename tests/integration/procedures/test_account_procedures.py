"""``account.*`` over the tRPC wire against the real app: round-robin, exhaustion,
admin only, and secrets that never come back in any response."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.procedures.planning_api import Api

CREDENTIALS = '{"claudeAiOauth": {"accessToken": "sk-ant-CREDENTIAL-SECRET-1"}}'
CONFIG = '{"oauthAccount": {"token": "CONFIG-SECRET-2"}}'
NEW_CREDENTIALS = '{"accessToken": "ROTATED-SECRET-3"}'
SECRETS = ("CREDENTIAL-SECRET-1", "CONFIG-SECRET-2", "ROTATED-SECRET-3")


def no_secrets(response: Any) -> Any:
    text = json.dumps(response)
    for secret in SECRETS:
        assert secret not in text
    assert '"credentials"' not in text
    assert '"configJson"' not in text
    return response


def test_secrets_go_in_and_never_come_out(api: Api) -> None:
    created = no_secrets(
        api.mutation(
            "account.create",
            {"email": "dev@example.com", "credentials": CREDENTIALS, "configJson": CONFIG},
        )
    )
    plain = no_secrets(api.mutation("account.create", {"email": "ops@example.com"}))
    account_id = created["id"]

    assert (created["hasCredentials"], created["hasConfig"]) == (True, True)
    assert (plain["hasCredentials"], plain["hasConfig"]) == (False, False)
    responses = [
        api.query("account.get", {"id": account_id}),
        api.query("account.list"),
        api.query("account.list", {"provider": "claude"}),
        api.mutation("account.update", {"id": account_id, "credentials": NEW_CREDENTIALS}),
        api.mutation("account.next", {"provider": "claude"}),
        api.mutation("account.next", {}),
        api.mutation(
            "account.markExhausted", {"id": account_id, "until": "2020-01-01T00:00:00.000Z"}
        ),
        api.mutation("account.clearExpired", {}),
        api.mutation("account.delete", {"id": account_id}),
    ]
    for response in responses:
        no_secrets(response)
    assert responses[3]["hasCredentials"] is True


def test_secrets_are_stored_byte_for_byte(api: Api) -> None:
    created = api.mutation(
        "account.create", {"email": "dev@example.com", "credentials": CREDENTIALS + "\n"}
    )
    api.mutation("account.update", {"id": created["id"], "configJson": CONFIG})

    stored = api.app.services.repos.accounts.get(created["id"])  # beside the API

    assert (stored.credentials, stored.config_json) == (CREDENTIALS + "\n", CONFIG)


def test_update_can_clear_a_secret_and_refuses_null_where_required(api: Api) -> None:
    account = api.mutation("account.create", {"email": "dev@example.com", "configJson": CONFIG})

    cleared = no_secrets(api.mutation("account.update", {"id": account["id"], "configJson": None}))

    assert cleared["hasConfig"] is False
    error = api.fails("mutation", "account.update", {"id": account["id"], "email": None})
    assert (error.code, "email" in error.message) == ("BAD_REQUEST", True)
    error = api.fails("mutation", "account.create", {"provider": "claude"})
    assert (error.code, "email" in error.message) == ("BAD_REQUEST", True)
    assert api.fails("query", "account.get", {"id": "nope"}).message == "account 'nope' not found"


def test_next_is_round_robin_and_skips_exhausted_accounts(api: Api) -> None:
    first = api.mutation("account.create", {"email": "a@example.com", "sortOrder": 0})
    second = api.mutation("account.create", {"email": "b@example.com", "sortOrder": 1})
    api.mutation("account.create", {"email": "c@example.com", "provider": "codex"})

    picks = [api.mutation("account.next", {"provider": "claude"})["id"] for _ in range(3)]
    assert picks == [first["id"], second["id"], first["id"]]

    api.mutation("account.markExhausted", {"id": second["id"], "until": "2999-01-01T00:00:00Z"})
    exhausted = api.query("account.get", {"id": second["id"]})
    assert (exhausted["isExhausted"], exhausted["exhaustedUntil"]) == (
        True,
        "2999-01-01T00:00:00.000Z",
    )
    assert api.mutation("account.next", {"provider": "claude"})["id"] == first["id"]

    api.mutation("account.markExhausted", {"id": first["id"], "until": "2999-01-01T00:00:00Z"})
    assert api.mutation("account.next", {"provider": "claude"}) is None
    assert api.mutation("account.next", {"provider": "nobody"}) is None


def test_clear_expired_counts_the_accounts_it_frees(api: Api) -> None:
    past = api.mutation("account.create", {"email": "a@example.com"})
    future = api.mutation("account.create", {"email": "b@example.com"})
    api.mutation("account.markExhausted", {"id": past["id"], "until": "2020-01-01T00:00:00Z"})
    api.mutation("account.markExhausted", {"id": future["id"], "until": "2999-01-01T00:00:00Z"})

    assert api.mutation("account.clearExpired", {}) == {"cleared": 1}
    assert api.query("account.get", {"id": past["id"]})["isExhausted"] is False
    assert api.query("account.get", {"id": future["id"]})["isExhausted"] is True


def test_mark_exhausted_needs_a_moment_with_a_zone(api: Api) -> None:
    account = api.mutation("account.create", {"email": "a@example.com"})

    error = api.fails(
        "mutation", "account.markExhausted", {"id": account["id"], "until": "2026-01-01T00:00"}
    )

    assert (error.code, "until" in error.message) == ("BAD_REQUEST", True)
    missing = api.fails(
        "mutation", "account.markExhausted", {"id": "nope", "until": "2026-01-01T00:00:00Z"}
    )
    assert missing.code == "NOT_FOUND"


def test_delete_detaches_the_agents_using_it(api: Api) -> None:
    account = api.mutation("account.create", {"email": "a@example.com"})
    agent = api.mutation("agent.create", {"accountId": account["id"]})

    result = no_secrets(api.mutation("account.delete", {"id": account["id"]}))

    assert (result["id"], result["removed"]) == (account["id"], {"agentsDetached": 1})
    assert result["deleted"]["email"] == "a@example.com"
    assert api.query("agent.get", {"id": agent["id"]})["accountId"] is None


def test_accounts_are_for_the_administrator_only(api: Api) -> None:
    account = api.mutation("account.create", {"email": "a@example.com"})
    agent = api.mutation("agent.create", {})
    as_agent = api.as_token(agent["token"])

    for kind, path, payload in [
        ("mutation", "account.create", {"email": "x@example.com"}),
        ("query", "account.get", {"id": account["id"]}),
        ("query", "account.list", None),
        ("mutation", "account.update", {"id": account["id"], "sortOrder": 3}),
        ("mutation", "account.delete", {"id": account["id"]}),
        ("mutation", "account.next", {}),
        (
            "mutation",
            "account.markExhausted",
            {"id": account["id"], "until": "2030-01-01T00:00:00Z"},
        ),
        ("mutation", "account.clearExpired", {}),
    ]:
        assert as_agent.fails(kind, path, payload).code == "FORBIDDEN", path
