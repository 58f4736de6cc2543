"""The query string's fast percent-decoding gives exactly what the standard library's
``unquote_plus`` gives (``URLSearchParams`` semantics), whatever the text."""

from __future__ import annotations

import json
import random
import urllib.parse
from urllib.parse import quote

import pytest

from crosswalk.server.trpc.request import parse_query, unquote_plus

# Pieces that exercise every branch: escapes of every kind (upper and lower case hex,
# UTF-8 sequences whole and cut, malformed and at the end), the characters
# quoted-printable treats specially (=, _, spaces and line breaks), '+', non-ASCII.
PIECES = (
    "%",
    "%2",
    "%zz",
    "%7B",
    "%7b",
    "%22",
    "%3D",
    "%3d",
    "%25",
    "%2B",
    "%20",
    "%0A",
    "%0D%0A",
    "%09",
    "%E2%82%AC",
    "%e2%82",
    "%ff",
    "%C3%A9",
    "%5F",
    "=",
    "==",
    "=4",
    "=41",
    "_",
    "+",
    " ",
    "  ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "a",
    "Z9",
    "é",
    "€",
    "\x00",
    "-._~",
)


@pytest.mark.parametrize("seed", range(8))
def test_it_agrees_with_the_standard_library_on_any_text(seed: int) -> None:
    pick = random.Random(seed)
    for _ in range(5_000):
        text = "".join(pick.choice(PIECES) for _ in range(pick.randint(0, 12)))
        assert unquote_plus(text) == urllib.parse.unquote_plus(text), repr(text)


@pytest.mark.parametrize(
    "value",
    [
        {"agentId": "KQoQ7SjEwaZVwDsaHm1Pp", "timeoutMs": 30000},
        {"question": "a = b + c? 100% sure_ish\nnext line\ttab", "emoji": "😀 €"},
        {"text": "=?utf-8?q?not_a_header?=", "nested": [1, None, True, "%41"]},
    ],
)
def test_a_percent_encoded_json_input_comes_back_whole(value: object) -> None:
    encoded = quote(json.dumps(value, ensure_ascii=False), safe="")
    assert json.loads(parse_query(b"input=" + encoded.encode())["input"]) == value
    # encodeURIComponent leaves these unescaped; a '+' in a query means a space
    loose = quote(json.dumps(value, ensure_ascii=False), safe="=:,")
    assert parse_query(b"batch=1&input=" + loose.encode())["input"] == (
        urllib.parse.unquote_plus(loose)
    )
