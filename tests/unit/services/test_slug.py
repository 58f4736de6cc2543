"""Slugs become branch names, so they must be valid git ref components."""

from __future__ import annotations

import re

import pytest

from crosswalk.domain.slug import MAX_SLUG_LENGTH, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("User Auth", "user-auth"),
        ("user-auth", "user-auth"),
        ("  Add  OAuth2 -- login!! ", "add-oauth2-login"),
        ("Crème brûlée café", "creme-brulee-cafe"),
        ("feature/x..y@{z}.lock", "feature-x-y-z-lock"),
        ("snake_case_name", "snake-case-name"),
        ("日本語", ""),
        ("", ""),
        ("---", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_long_names_are_cut_without_a_trailing_hyphen() -> None:
    slug = slugify("word " * 40)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert not slug.endswith("-")
    assert slug.startswith("word-word")


def test_max_length_is_respected() -> None:
    assert slugify("abcdef ghij", max_length=7) == "abcdef"


def test_only_ref_safe_characters_survive() -> None:
    slug = slugify("A~B^C:D?E*F[G]H\\I J\tK")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
