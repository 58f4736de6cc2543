"""Ids look like nanoid's and are safe to type as a command-line argument."""

from __future__ import annotations

import re
from collections import Counter

from crosswalk.ids import ALPHABET, ID_LENGTH, new_id


def test_ids_are_21_url_safe_characters_never_starting_with_a_dash() -> None:
    ids = {new_id() for _ in range(5000)}
    assert len(ids) == 5000
    for value in ids:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{20}", value), value
        assert len(value) == ID_LENGTH


def test_every_symbol_of_the_alphabet_is_used_about_equally() -> None:
    # 64 symbols from each random byte's low 6 bits: uniform, none missing. 20,000
    # ids give ~6,250 of each symbol after the first; 5,000 or 7,500 would be a bias.
    counts = Counter("".join(new_id()[1:] for _ in range(20_000)))
    assert set(counts) == set(ALPHABET)
    assert 5_000 < min(counts.values()) <= max(counts.values()) < 7_500
