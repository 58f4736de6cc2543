"""The adjective-animal alias generator."""

from __future__ import annotations

import re

from crosswalk.domain.names import ADJECTIVES, ANIMALS, random_alias

WORD = re.compile(r"^[a-z]+$")


def test_an_alias_is_an_adjective_and_an_animal_joined_by_a_hyphen() -> None:
    for _ in range(200):
        adjective, animal = random_alias().split("-")
        assert adjective in ADJECTIVES
        assert animal in ANIMALS


def test_the_word_lists_are_plain_lowercase_words_without_duplicates() -> None:
    for words in (ADJECTIVES, ANIMALS):
        assert all(WORD.match(word) for word in words), words
        assert len(set(words)) == len(words)


def test_there_are_thousands_of_aliases() -> None:
    assert len(ADJECTIVES) >= 55
    assert len(ANIMALS) >= 55
    assert len(ADJECTIVES) * len(ANIMALS) >= 3000


def test_aliases_vary() -> None:
    drawn = {random_alias() for _ in range(300)}
    # 300 draws from 3,600 aliases: fewer than 250 distinct would mean a broken source.
    assert len(drawn) >= 250
    assert len({alias.split("-")[0] for alias in drawn}) >= 40
    assert len({alias.split("-")[1] for alias in drawn}) >= 40
