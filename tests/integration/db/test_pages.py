"""The page repository against a real SQLite file."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from crosswalk.db.engine import create_database_engine
from crosswalk.db.repositories.sqlalchemy import Repositories
from crosswalk.db.repositories.sqlalchemy.page import SqlAlchemyPageRepository
from crosswalk.db.schema import pages
from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import Initiative, NewInitiative, NewPage, Page
from crosswalk.ids import ID_LENGTH

pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("User auth"))


@pytest.fixture
def other_initiative(repos: Repositories) -> Initiative:
    return repos.initiatives.create(NewInitiative("Billing"))


@pytest.fixture
def root(repos: Repositories, initiative: Initiative) -> Page:
    return repos.pages.get_or_create_root_page(initiative.id)


def child(repos: Repositories, parent: Page, title: str, **fields: Any) -> Page:
    return repos.pages.create(
        NewPage(parent.initiative_id, title, parent_page_id=parent.id, **fields)
    )


def roots(engine: Engine, initiative_id: str) -> int:
    query = (
        select(func.count())
        .select_from(pages)
        .where(pages.c.initiative_id == initiative_id, pages.c.parent_page_id.is_(None))
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# --- the root page ----------------------------------------------------------------


def test_get_or_create_root_page_creates_it_once_titled_by_the_initiative(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    root = repos.pages.get_or_create_root_page(initiative.id)

    assert len(root.id) == ID_LENGTH
    assert (root.title, root.parent_page_id, root.initiative_id) == (
        "User auth",
        None,
        initiative.id,
    )
    assert repos.pages.get_or_create_root_page(initiative.id, title="ignored") == root
    assert repos.pages.find_root_page(initiative.id) == root
    assert roots(engine, initiative.id) == 1


def test_get_or_create_root_page_takes_a_title(repos: Repositories, initiative: Initiative) -> None:
    assert repos.pages.get_or_create_root_page(initiative.id, title="Overview").title == "Overview"


def test_get_or_create_root_page_of_an_unknown_initiative_names_it(repos: Repositories) -> None:
    with pytest.raises(NotFoundError, match=r"^initiative 'ghost' not found$"):
        repos.pages.get_or_create_root_page("ghost")
    assert repos.pages.find_root_page("ghost") is None


def test_racing_callers_get_the_same_root_page(
    initiative: Initiative, database_url: str, engine: Engine
) -> None:
    """Two threads, each with its own engine (so its own connection), released together."""
    callers = 2
    barrier = threading.Barrier(callers)
    results: list[Page] = []
    errors: list[BaseException] = []

    def call() -> None:
        own_engine = create_database_engine(database_url)
        try:
            repo = SqlAlchemyPageRepository(own_engine)
            barrier.wait(timeout=10)
            results.append(repo.get_or_create_root_page(initiative.id))
        except BaseException as exc:  # re-raised in the test thread below
            errors.append(exc)
        finally:
            own_engine.dispose()

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert len(results) == callers
    assert len({page.id for page in results}) == 1
    assert roots(engine, initiative.id) == 1


def test_a_root_inserted_between_read_and_insert_is_returned_not_duplicated(
    repos: Repositories,
    initiative: Initiative,
    root: Page,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The path a racing writer takes on databases that do not serialize writers:
    its read misses the root, the unique index refuses its insert, it re-reads."""
    real_root = SqlAlchemyPageRepository._root
    misses = [True]

    def stale_root(self: SqlAlchemyPageRepository, conn: Connection, id: str) -> Page | None:
        if misses:
            misses.pop()
            return None
        return real_root(self, conn, id)

    monkeypatch.setattr(SqlAlchemyPageRepository, "_root", stale_root)

    assert SqlAlchemyPageRepository(engine).get_or_create_root_page(initiative.id) == root
    assert misses == []
    assert roots(engine, initiative.id) == 1


def test_a_second_root_is_a_conflict(
    repos: Repositories, initiative: Initiative, root: Page
) -> None:
    with pytest.raises(ConflictError, match=f"already has a root page '{root.id}'"):
        repos.pages.create(NewPage(initiative.id, "another root"))


# --- create -----------------------------------------------------------------------


def test_create_a_child_page(repos: Repositories, root: Page) -> None:
    page = child(repos, root, "Design", content={"type": "doc"}, sort_order=2)

    assert (page.parent_page_id, page.initiative_id, page.title, page.content, page.sort_order) == (
        root.id,
        root.initiative_id,
        "Design",
        {"type": "doc"},
        2,
    )
    assert page.created_at == page.updated_at
    assert repos.pages.get(page.id) == page


def test_create_names_a_missing_initiative_or_parent(
    repos: Repositories, initiative: Initiative, engine: Engine
) -> None:
    with pytest.raises(NotFoundError, match=r"^initiative 'ghost' not found$"):
        repos.pages.create(NewPage("ghost", "x"))
    with pytest.raises(NotFoundError, match=r"^page 'ghost' not found$"):
        repos.pages.create(NewPage(initiative.id, "x", parent_page_id="ghost"))
    assert roots(engine, initiative.id) == 0


def test_a_parent_in_another_initiative_is_invalid(
    repos: Repositories, other_initiative: Initiative, root: Page
) -> None:
    with pytest.raises(InvalidInputError, match=f"parent page '{root.id}' belongs to"):
        repos.pages.create(NewPage(other_initiative.id, "x", parent_page_id=root.id))


# --- read -------------------------------------------------------------------------


def test_unknown_ids_are_not_found(repos: Repositories) -> None:
    assert repos.pages.find_by_id("nope") is None
    for call in (
        lambda: repos.pages.get("nope"),
        lambda: repos.pages.update("nope", {"title": "x"}),
        lambda: repos.pages.update("nope", {}),
        lambda: repos.pages.delete("nope"),
    ):
        with pytest.raises(NotFoundError, match=r"^page 'nope' not found$"):
            call()


def test_children_come_by_sort_order_then_creation(repos: Repositories, root: Page) -> None:
    last = child(repos, root, "last", sort_order=5)
    first = child(repos, root, "first", sort_order=1)
    first_too = child(repos, root, "first too", sort_order=1)
    child(repos, first, "grandchild")

    assert repos.pages.find_by_parent_page_id(root.id) == [first, first_too, last]
    assert repos.pages.find_by_parent_page_id("ghost") == []


def test_find_by_initiative_id_and_list_page(
    repos: Repositories, root: Page, other_initiative: Initiative
) -> None:
    a = child(repos, root, "a")
    b = child(repos, a, "b")
    elsewhere = repos.pages.get_or_create_root_page(other_initiative.id)

    first = repos.pages.list_page(initiative_id=root.initiative_id, limit=2)
    rest = repos.pages.list_page(
        initiative_id=root.initiative_id, limit=2, cursor=first.next_cursor
    )

    assert repos.pages.find_by_initiative_id(root.initiative_id) == [root, a, b]
    assert first.items + rest.items == [root, a, b]
    assert rest.next_cursor is None
    assert repos.pages.list_page(parent_page_id=a.id).items == [b]
    assert repos.pages.find_all() == [root, a, b, elsewhere]


# --- update -----------------------------------------------------------------------


def test_update_changes_fields_and_moves_updated_at(repos: Repositories, root: Page) -> None:
    page = child(repos, root, "draft")

    updated = repos.pages.update(page.id, {"title": "final", "content": [1], "sort_order": 3})

    assert (updated.title, updated.content, updated.sort_order) == ("final", [1], 3)
    assert updated.created_at == page.created_at
    assert updated.updated_at > page.updated_at
    assert repos.pages.get(page.id) == updated


def test_an_empty_update_returns_the_row_unchanged(repos: Repositories, root: Page) -> None:
    assert repos.pages.update(root.id, {}) == root


def test_a_page_cannot_become_its_own_ancestor(repos: Repositories, root: Page) -> None:
    a = child(repos, root, "a")
    b = child(repos, a, "b")

    with pytest.raises(InvalidInputError) as raised:
        repos.pages.update(a.id, {"parent_page_id": b.id})
    with pytest.raises(InvalidInputError, match="its own ancestor"):
        repos.pages.update(a.id, {"parent_page_id": a.id})
    with pytest.raises(InvalidInputError, match="its own ancestor"):
        repos.pages.update(root.id, {"parent_page_id": b.id})

    assert raised.value.message == (
        f"page '{a.id}' cannot move under '{b.id}': it would be its own ancestor "
        f"({a.id} -> {b.id} -> {a.id})"
    )
    assert repos.pages.get(a.id) == a


def test_moves_stay_in_the_tree_and_the_initiative(
    repos: Repositories, root: Page, other_initiative: Initiative
) -> None:
    a, b = child(repos, root, "a"), child(repos, root, "b")
    foreign_root = repos.pages.get_or_create_root_page(other_initiative.id)

    assert repos.pages.update(b.id, {"parent_page_id": a.id}).parent_page_id == a.id
    with pytest.raises(InvalidInputError, match=f"parent page '{foreign_root.id}'"):
        repos.pages.update(b.id, {"parent_page_id": foreign_root.id})
    with pytest.raises(ConflictError, match=f"already has a root page '{root.id}'"):
        repos.pages.update(b.id, {"parent_page_id": None})
    assert repos.pages.update(root.id, {"parent_page_id": None}) == repos.pages.get(root.id)


# --- delete -----------------------------------------------------------------------


def test_delete_takes_the_subtree_along(
    repos: Repositories, root: Page, engine: Engine, other_initiative: Initiative
) -> None:
    a, keep = child(repos, root, "a"), child(repos, root, "keep")
    b = child(repos, a, "b")
    child(repos, b, "c")
    child(repos, a, "d")
    repos.pages.get_or_create_root_page(other_initiative.id)

    assert repos.pages.delete(a.id) == {"pages": 3}

    assert repos.pages.find_by_initiative_id(root.initiative_id) == [root, keep]
    assert repos.pages.delete(keep.id) == {"pages": 0}
    assert repos.pages.delete(root.id) == {"pages": 0}
    assert len(repos.pages.find_all()) == 1
