"""``account.*``: provider logins, handed to agents round-robin. Administrator only.

Secrets stay in: ``credentials`` and ``configJson`` are accepted on create and update
and never returned; reads show ``hasCredentials`` and ``hasConfig`` instead
(``crosswalk.server.serialize`` withholds them for every output).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, cast

from pydantic import AwareDatetime, Field

from crosswalk.domain.rows import AccountUpdate, NewAccount
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name
from crosswalk.server.serialize import to_api
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

# A serialized .credentials.json or .claude.json: opaque text, stored byte for byte.
Secret = Annotated[str, Field(min_length=1, max_length=512 * 1024)]
SortOrder = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class CreateInput(ApiInput):
    email: Name
    provider: Name = "claude"
    config_json: Secret | None = None
    credentials: Secret | None = None
    sort_order: SortOrder = 0


class ListInput(OptionalInput):
    provider: Name | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdateAccountInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"config_json", "credentials", "exhausted_until", "last_used_at"}
    )

    email: Name | None = None
    provider: Name | None = None
    config_json: Secret | None = None  # null removes it
    credentials: Secret | None = None  # null removes them
    sort_order: SortOrder | None = None
    is_exhausted: bool | None = None
    exhausted_until: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None


class NextInput(OptionalInput):
    provider: Name = "claude"


class ExhaustInput(ApiInput):
    id: Id
    until: AwareDatetime


def _admin(ctx: Context) -> None:
    ctx.principal.require_admin("manage accounts (they hold provider credentials)")


@router.mutation("account.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    _admin(ctx)
    account = ctx.services.accounts.create(
        NewAccount(
            email=inp.email,
            provider=inp.provider,
            config_json=inp.config_json,
            credentials=inp.credentials,
            sort_order=inp.sort_order,
        )
    )
    return to_api(account)


@router.query("account.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    _admin(ctx)
    return to_api(ctx.repos.accounts.get(inp.id))


@router.query("account.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    _admin(ctx)
    page = ctx.repos.accounts.list_page(provider=inp.provider, limit=inp.limit, cursor=inp.cursor)
    return page_output(page)


@router.mutation("account.update", input=UpdateAccountInput)
async def update(ctx: Context, inp: UpdateAccountInput) -> dict[str, Any]:
    _admin(ctx)
    changes = cast(AccountUpdate, inp.changes())
    return to_api(ctx.services.accounts.update(inp.id, changes))


@router.mutation("account.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the account; agents using it are detached (``removed.agentsDetached``)."""
    _admin(ctx)
    account, removed = ctx.services.accounts.delete(inp.id)
    return deleted_output(account, removed)


@router.mutation("account.next", input=NextInput)
async def next_(ctx: Context, inp: NextInput) -> dict[str, Any] | None:
    """Round-robin: the provider's available account used least recently, stamped as
    used now. ``null`` when every account is exhausted (or there is none): running
    out is an ordinary state a scheduler branches on, not an error."""
    _admin(ctx)
    account = ctx.services.accounts.next_available(inp.provider)
    return None if account is None else to_api(account)


@router.mutation("account.markExhausted", input=ExhaustInput)
async def mark_exhausted(ctx: Context, inp: ExhaustInput) -> dict[str, Any]:
    """Out of quota until ``until``; past it ``next`` may hand the account out again."""
    _admin(ctx)
    return to_api(ctx.services.accounts.mark_exhausted(inp.id, inp.until))


@router.mutation("account.clearExpired")
async def clear_expired(ctx: Context, inp: None) -> dict[str, Any]:
    """Un-exhausts every account whose exhaustion has passed: ``{cleared: n}``."""
    _admin(ctx)
    return {"cleared": ctx.services.accounts.clear_expired()}
