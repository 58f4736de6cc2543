"""The ``PageRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.errors import ConflictError, InvalidInputError, NotFoundError
from crosswalk.domain.rows import NewInitiative, NewPage


def test_one_root_per_initiative(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("Auth"))
    pages = ports.pages
    assert pages.find_root_page(initiative.id) is None
    with pytest.raises(NotFoundError, match="initiative 'ghost' not found"):
        pages.get_or_create_root_page("ghost")

    root = pages.get_or_create_root_page(initiative.id)

    assert (root.title, root.parent_page_id) == ("Auth", None)
    assert pages.get_or_create_root_page(initiative.id, "Other title") == root
    assert pages.find_root_page(initiative.id) == root
    with pytest.raises(ConflictError, match="already has a root page"):
        pages.create(NewPage(initiative.id, "second root"))


def test_a_tree_of_pages(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("auth"))
    other = ports.initiatives.create(NewInitiative("billing"))
    pages = ports.pages
    root = pages.create(NewPage(initiative.id, "root"))
    later = pages.create(NewPage(initiative.id, "b", parent_page_id=root.id, sort_order=2))
    first = pages.create(NewPage(initiative.id, "a", parent_page_id=root.id, sort_order=1))
    below = pages.create(NewPage(initiative.id, "c", parent_page_id=first.id))
    foreign_root = pages.create(NewPage(other.id, "theirs"))

    assert pages.find_by_parent_page_id(root.id) == [first, later]
    assert pages.find_by_initiative_id(initiative.id) == [root, later, first, below]
    assert pages.list_page(parent_page_id=first.id).items == [below]
    with pytest.raises(InvalidInputError, match="own ancestor"):
        pages.update(first.id, {"parent_page_id": below.id})
    with pytest.raises(InvalidInputError, match="belongs to initiative"):
        pages.update(first.id, {"parent_page_id": foreign_root.id})
    with pytest.raises(ConflictError, match="already has a root page"):
        pages.update(first.id, {"parent_page_id": None})
    moved = pages.update(below.id, {"parent_page_id": later.id, "title": "c2"})
    assert (moved.parent_page_id, moved.title) == (later.id, "c2")

    assert pages.delete(root.id) == {"pages": 3}
    assert pages.find_all() == [foreign_root]
