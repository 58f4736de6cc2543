"""How a person names an initiative, phase or task: id, name, or the start of the id."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crosswalk.domain.errors import InvalidInputError, NotFoundError
from crosswalk.domain.refs import MAX_CANDIDATES, pick_by_ref


@dataclass(frozen=True)
class Row:
    id: str
    name: str


API = Row("Xk2pQ9vLm3nB7cD4eF5gH", "api")
API_TOO = Row("Xk9zzzzzzzzzzzzzzzzzz", "api")
UI = Row("b7cD4eF5gHXk2pQ9vLm3n", "ui")
LOOKS_LIKE_AN_ID = Row("c1111111111111111111a", API.id)


def test_an_exact_id_wins_over_a_row_named_like_it() -> None:
    assert pick_by_ref("task", API.id, [API, LOOKS_LIKE_AN_ID]) is API


def test_a_unique_name_then_a_unique_id_start() -> None:
    assert pick_by_ref("task", "ui", [UI]) is UI
    assert pick_by_ref("task", "b7c", [UI]) is UI
    assert pick_by_ref("task", "Xk2", [API]) is API


def test_several_with_the_name_or_the_start_are_listed_with_names_and_ids() -> None:
    with pytest.raises(InvalidInputError) as named:
        pick_by_ref("task", "api", [API, API_TOO])
    assert named.value.message == (
        f"'api' is ambiguous: 2 tasks are named it: 'api' ({API.id}), 'api' ({API_TOO.id}); "
        "give one's id (or enough of its start to tell it apart)"
    )
    with pytest.raises(InvalidInputError, match="2 tasks have an id starting with it"):
        pick_by_ref("task", "Xk", [API, API_TOO])
    many = [Row(f"Xk{n:019d}", f"t{n}") for n in range(MAX_CANDIDATES + 1)]
    with pytest.raises(InvalidInputError, match=r"11\+ tasks .* and more;"):
        pick_by_ref("task", "Xk", many)


def test_nothing_found_says_what_was_tried_and_how_to_list() -> None:
    with pytest.raises(NotFoundError) as missing:
        pick_by_ref("phase", "Backend", [])
    assert missing.value.message == (
        "no phase has the id or the name 'Backend', nor an id starting with it; "
        "list them with: cw phase list"
    )
