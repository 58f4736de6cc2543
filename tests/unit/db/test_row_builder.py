"""A hot statement's rows become the model ``model(*converted_row)`` would make, whether
the builder sets a frozen dataclass's slots itself or calls the model."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, InitVar, dataclass, field
from typing import Any

import pytest

from crosswalk.db.repositories.sqlalchemy._prepared import _row_builder, _slot_setters

READERS = ((1, int), (2, str.upper))  # columns 1 and 2 are converted, column 0 is not


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    count: int | None
    shout: str | None


@dataclass(frozen=True, slots=True)
class Checked:
    name: str
    count: int | None
    shout: str | None

    def __post_init__(self) -> None:
        if self.name == "":
            raise ValueError("a name is required")


@dataclass(frozen=True)
class WithoutSlots:
    name: str
    count: int | None
    shout: str | None


@dataclass(slots=True)
class Mutable:
    name: str
    count: int | None
    shout: str | None


@dataclass(frozen=True, slots=True)
class NotAllInit:
    name: str
    count: int | None
    shout: str | None = field(default=None, init=False)


@dataclass(frozen=True, slots=True)
class WithInitVar:
    name: str
    count: int | None
    shout: InitVar[str | None]


def test_a_frozen_dataclass_with_slots_is_built_without_its_init() -> None:
    build = _row_builder(Row, READERS, 3)
    built = build(("a", "7", "hey"))
    assert built == Row("a", 7, "HEY")
    assert type(built) is Row and type(built.count) is int
    # still frozen: the builder set the slots, the instance refuses changes as before
    with pytest.raises(FrozenInstanceError):
        built.name = "b"  # type: ignore[misc]
    assert _slot_setters(Row, 3) is not None  # the fast road was taken


def test_none_is_not_converted() -> None:
    assert _row_builder(Row, READERS, 3)(("a", None, None)) == Row("a", None, None)


@pytest.mark.parametrize("model", [Checked, WithoutSlots, Mutable, NotAllInit, WithInitVar])
def test_a_model_whose_init_may_do_more_is_called(model: Any) -> None:
    assert _slot_setters(model, 3) is None


def test_a_called_model_still_checks_its_values() -> None:
    build = _row_builder(Checked, READERS, 3)
    assert build(("a", "1", "x")) == Checked("a", 1, "X")
    with pytest.raises(ValueError, match="a name is required"):
        build(("", "1", "x"))


def test_a_row_of_another_width_goes_to_the_model_and_fails_as_it_would() -> None:
    assert _slot_setters(Row, 4) is None
    with pytest.raises(TypeError):
        _row_builder(Row, READERS, 4)(("a", "1", "x", "extra"))


def test_a_plain_callable_gets_the_converted_values() -> None:
    def values_of(*values: Any) -> tuple[Any, ...]:
        return values

    assert _row_builder(values_of, READERS, 3)(("a", "2", "b")) == ("a", 2, "B")
