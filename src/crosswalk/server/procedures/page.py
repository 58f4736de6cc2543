"""``page.*``: an initiative's documents, one tree under a single root page.

``page.root`` is a mutation because it creates the root when the initiative has
none yet; ``page.tree`` only reads, and answers ``null`` for an initiative without
pages rather than creating one as a side effect.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any, ClassVar, cast

from pydantic import Field

from crosswalk.domain.rows import NewPage, Page, PageUpdate
from crosswalk.server.context import Context
from crosswalk.server.procedures._common import (
    IdInput,
    OptionalInput,
    UpdateInput,
    deleted_output,
    page_output,
)
from crosswalk.server.procedures._inputs import ApiInput, Id, Limit, Name
from crosswalk.server.serialize import to_api, to_api_list
from crosswalk.server.trpc import Router

router: Router[Context] = Router()

SortOrder = Annotated[int, Field(ge=-1_000_000_000, le=1_000_000_000)]


class CreateInput(ApiInput):
    initiative_id: Id
    title: Name
    parent_page_id: Id | None = None  # none: the initiative's root page
    content: Any = None  # Tiptap JSON
    sort_order: SortOrder = 0


class ListInput(OptionalInput):
    initiative_id: Id | None = None
    parent_page_id: Id | None = None
    limit: Limit = 50
    cursor: str | None = None


class UpdatePageInput(UpdateInput):
    nullable: ClassVar[frozenset[str]] = frozenset({"content", "parent_page_id"})

    title: Name | None = None
    content: Any = None
    sort_order: SortOrder | None = None
    parent_page_id: Id | None = None  # null: make it the root (refused while one exists)


class RootInput(ApiInput):
    initiative_id: Id
    title: Name | None = None  # for a root created now; default the initiative's name


class TreeInput(ApiInput):
    initiative_id: Id


@router.mutation("page.create", input=CreateInput)
async def create(ctx: Context, inp: CreateInput) -> dict[str, Any]:
    ctx.principal.require_admin("create pages")
    page = ctx.services.documents.create_page(
        NewPage(
            initiative_id=inp.initiative_id,
            title=inp.title,
            parent_page_id=inp.parent_page_id,
            content=inp.content,
            sort_order=inp.sort_order,
        )
    )
    return to_api(page)


@router.query("page.get", input=IdInput)
async def get(ctx: Context, inp: IdInput) -> dict[str, Any]:
    return to_api(ctx.repos.pages.get(inp.id))


@router.query("page.list", input=ListInput)
async def list_(ctx: Context, inp: ListInput) -> dict[str, Any]:
    page = ctx.repos.pages.list_page(
        initiative_id=inp.initiative_id,
        parent_page_id=inp.parent_page_id,
        limit=inp.limit,
        cursor=inp.cursor,
    )
    return page_output(page)


@router.mutation("page.update", input=UpdatePageInput)
async def update(ctx: Context, inp: UpdatePageInput) -> dict[str, Any]:
    ctx.principal.require_admin("change pages")
    return to_api(ctx.services.documents.update_page(inp.id, cast(PageUpdate, inp.changes())))


@router.mutation("page.delete", input=IdInput)
async def delete(ctx: Context, inp: IdInput) -> dict[str, Any]:
    """Deletes the page; ``removed.pages`` counts its subpages, at every depth."""
    ctx.principal.require_admin("delete pages")
    page, removed = ctx.services.documents.delete_page(inp.id)
    return deleted_output(page, removed)


@router.mutation("page.root", input=RootInput)
async def root(ctx: Context, inp: RootInput) -> dict[str, Any]:
    """The initiative's root page, created when missing (racing callers get one)."""
    ctx.principal.require_admin("create root pages")
    return to_api(ctx.services.documents.root_page(inp.initiative_id, inp.title))


@router.query("page.children", input=IdInput)
async def children(ctx: Context, inp: IdInput) -> list[dict[str, Any]]:
    """The page's direct subpages by ``sortOrder``, then creation."""
    ctx.repos.pages.get(inp.id)
    return to_api_list(ctx.repos.pages.find_by_parent_page_id(inp.id))


@router.query("page.tree", input=TreeInput)
async def tree(ctx: Context, inp: TreeInput) -> dict[str, Any] | None:
    """``{...rootPage, children: [{...page, children: [...]}, ...]}``, siblings by
    ``sortOrder`` then creation; ``null`` while the initiative has no root page."""
    ctx.repos.initiatives.get(inp.initiative_id)
    pages = ctx.repos.pages.find_by_initiative_id(inp.initiative_id)
    return build_tree(pages)


def build_tree(pages: list[Page]) -> dict[str, Any] | None:
    """Nest ``pages`` (one initiative's, in creation order) under their root."""
    below: dict[str | None, list[Page]] = defaultdict(list)
    for page in pages:
        below[page.parent_page_id].append(page)
    roots = below[None]
    if not roots:
        return None

    def node(page: Page) -> dict[str, Any]:
        # A stable sort over creation order gives sortOrder, then creation.
        kids = sorted(below[page.id], key=lambda child: child.sort_order)
        return {**to_api(page), "children": [node(child) for child in kids]}

    return node(roots[0])
