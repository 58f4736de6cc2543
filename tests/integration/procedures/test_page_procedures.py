"""``page.*`` over the wire: CRUD, the single root page, and the nested tree."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api, agent_api

Row = dict[str, Any]
DOC = {
    "type": "doc",
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}],
}


@pytest.fixture
def initiative(api: Api) -> Row:
    created: Row = api.mutation("initiative.create", {"name": "Auth"})
    return created


@pytest.fixture
def root(api: Api, initiative: Row) -> Row:
    created: Row = api.mutation("page.root", {"initiativeId": initiative["id"]})
    return created


def page(api: Api, initiative: Row, title: str, parent: Row, **fields: Any) -> Row:
    created: Row = api.mutation(
        "page.create",
        {"initiativeId": initiative["id"], "title": title, "parentPageId": parent["id"], **fields},
    )
    return created


def ids(rows: list[Row]) -> list[str]:
    return [row["id"] for row in rows]


def test_root_is_created_once_titled_after_the_initiative(api: Api, initiative: Row) -> None:
    first = api.mutation("page.root", {"initiativeId": initiative["id"]})
    second = api.mutation("page.root", {"initiativeId": initiative["id"], "title": "ignored"})

    assert set(first) == {
        "id",
        "initiativeId",
        "parentPageId",
        "title",
        "content",
        "sortOrder",
        "createdAt",
        "updatedAt",
    }
    assert (first["title"], first["parentPageId"], first["initiativeId"]) == (
        "Auth",
        None,
        initiative["id"],
    )
    assert second == first
    missing = api.fails("mutation", "page.root", {"initiativeId": "i0"})
    assert (missing.code, missing.message) == ("NOT_FOUND", "initiative 'i0' not found")


def test_create_and_get(api: Api, initiative: Row, root: Row) -> None:
    created = page(api, initiative, "Design", root, content=DOC, sortOrder=2)

    assert (created["title"], created["parentPageId"], created["sortOrder"]) == (
        "Design",
        root["id"],
        2,
    )
    assert created["content"] == DOC
    assert api.query("page.get", {"id": created["id"]}) == created


def test_a_second_root_is_a_conflict(api: Api, initiative: Row, root: Row) -> None:
    error = api.fails("mutation", "page.create", {"initiativeId": initiative["id"], "title": "x"})

    assert error.code == "CONFLICT"
    assert root["id"] in error.message


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": "x", "sortOrder": "first"}, "sortOrder"),
        ({"title": "x", "body": "y"}, "body"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    api: Api, initiative: Row, payload: dict[str, Any], field: str
) -> None:
    error = api.fails("mutation", "page.create", {"initiativeId": initiative["id"], **payload})

    assert error.code == "BAD_REQUEST"
    assert error.message.startswith(f"{field}: ")


def test_get_unknown_is_not_found(api: Api) -> None:
    error = api.fails("query", "page.get", {"id": "pg0"})

    assert (error.code, error.message) == ("NOT_FOUND", "page 'pg0' not found")


def test_list_filters_and_children_keep_sort_order(api: Api, initiative: Row, root: Row) -> None:
    later = page(api, initiative, "later", root, sortOrder=5)
    sooner = page(api, initiative, "sooner", root, sortOrder=1)
    nested = page(api, initiative, "nested", sooner)
    other = api.mutation("initiative.create", {"name": "Billing"})
    their_root = api.mutation("page.root", {"initiativeId": other["id"]})

    assert ids(api.query("page.list")["items"]) == ids([root, later, sooner, nested, their_root])
    mine = api.query("page.list", {"initiativeId": initiative["id"], "limit": 3})
    assert ids(mine["items"]) == ids([root, later, sooner])
    assert ids(
        api.query("page.list", {"cursor": mine["nextCursor"], "initiativeId": initiative["id"]})[
            "items"
        ]
    ) == [nested["id"]]
    assert ids(api.query("page.list", {"parentPageId": root["id"]})["items"]) == ids(
        [later, sooner]
    )
    assert ids(api.query("page.children", {"id": root["id"]})) == ids([sooner, later])
    assert api.fails("query", "page.children", {"id": "pg0"}).code == "NOT_FOUND"


def test_update_moves_retitles_and_refuses_cycles(api: Api, initiative: Row, root: Row) -> None:
    a = page(api, initiative, "a", root)
    b = page(api, initiative, "b", a)

    updated = api.mutation(
        "page.update", {"id": b["id"], "title": "B", "parentPageId": root["id"], "content": DOC}
    )
    assert (updated["title"], updated["parentPageId"], updated["content"]) == ("B", root["id"], DOC)
    cleared = api.mutation("page.update", {"id": b["id"], "content": None, "sortOrder": 9})
    assert (cleared["content"], cleared["sortOrder"], cleared["title"]) == (None, 9, "B")

    api.mutation("page.update", {"id": b["id"], "parentPageId": a["id"]})
    cycle = api.fails("mutation", "page.update", {"id": a["id"], "parentPageId": b["id"]})
    assert cycle.code == "BAD_REQUEST"
    assert "its own ancestor" in cycle.message
    second_root = api.fails("mutation", "page.update", {"id": a["id"], "parentPageId": None})
    assert second_root.code == "CONFLICT"
    untitled = api.fails("mutation", "page.update", {"id": a["id"], "title": None})
    assert (untitled.code, untitled.message.split(":")[0]) == ("BAD_REQUEST", "title")


def test_delete_counts_subpages_at_every_depth(api: Api, initiative: Row, root: Row) -> None:
    a = page(api, initiative, "a", root)
    b = page(api, initiative, "b", a)
    page(api, initiative, "c", b)
    kept = page(api, initiative, "kept", root)

    result = api.mutation("page.delete", {"id": a["id"]})

    assert result == {"id": a["id"], "deleted": a, "removed": {"pages": 2}}
    assert ids(api.query("page.children", {"id": root["id"]})) == [kept["id"]]
    assert api.fails("mutation", "page.delete", {"id": a["id"]}).code == "NOT_FOUND"


def test_tree_nests_every_page_under_the_root(api: Api, initiative: Row, root: Row) -> None:
    later = page(api, initiative, "later", root, sortOrder=2)
    sooner = page(api, initiative, "sooner", root, sortOrder=1)
    nested = page(api, initiative, "nested", later)

    tree = api.query("page.tree", {"initiativeId": initiative["id"]})

    assert {k: v for k, v in tree.items() if k != "children"} == root
    assert [child["title"] for child in tree["children"]] == ["sooner", "later"]
    assert tree["children"][0] == {**sooner, "children": []}
    assert tree["children"][1]["children"] == [{**nested, "children": []}]
    assert later["id"] == tree["children"][1]["id"]


def test_tree_is_null_without_pages_and_not_found_for_an_unknown_initiative(
    api: Api, initiative: Row
) -> None:
    assert api.query("page.tree", {"initiativeId": initiative["id"]}) is None
    error = api.fails("query", "page.tree", {"initiativeId": "i0"})
    assert (error.code, error.message) == ("NOT_FOUND", "initiative 'i0' not found")


def test_agents_read_but_do_not_write(api: Api, initiative: Row, root: Row) -> None:
    child = page(api, initiative, "child", root)
    agent = agent_api(api)

    assert agent.query("page.get", {"id": child["id"]}) == child
    assert agent.query("page.tree", {"initiativeId": initiative["id"]})["id"] == root["id"]
    assert ids(agent.query("page.children", {"id": root["id"]})) == [child["id"]]
    for path, payload in [
        (
            "page.create",
            {"initiativeId": initiative["id"], "title": "x", "parentPageId": root["id"]},
        ),
        ("page.update", {"id": child["id"], "title": "x"}),
        ("page.delete", {"id": child["id"]}),
        ("page.root", {"initiativeId": initiative["id"]}),
    ]:
        assert agent.fails("mutation", path, payload).code == "FORBIDDEN", path
    assert api.query("page.get", {"id": child["id"]}) == child
