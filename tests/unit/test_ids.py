"""Ids look like nanoid's and are safe to type as a command-line argument."""

from __future__ import annotations

import re

from crosswalk.ids import ID_LENGTH, new_id


def test_ids_are_21_url_safe_characters_never_starting_with_a_dash() -> None:
    ids = {new_id() for _ in range(5000)}
    assert len(ids) == 5000
    for value in ids:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{20}", value), value
        assert len(value) == ID_LENGTH
