"""Document content in ``cw phase`` / ``cw page``: text in as Tiptap, Tiptap out as text."""

from __future__ import annotations

from crosswalk.cli._planning import document_from_text, text_from_document


def test_text_becomes_one_paragraph_per_line_and_reads_back() -> None:
    doc = document_from_text("first\n\nthird\n")

    assert doc == {
        "type": "doc",
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "first"}]},
            {"type": "paragraph"},
            {"type": "paragraph", "content": [{"type": "text", "text": "third"}]},
        ],
    }
    assert text_from_document(doc) == "first\n\nthird"


def test_headings_lists_quotes_and_breaks_read_as_text() -> None:
    def text(value: str) -> dict[str, str]:
        return {"type": "text", "text": value}

    def paragraph(*content: dict[str, object]) -> dict[str, object]:
        return {"type": "paragraph", "content": list(content)}

    doc = {
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Plan")]},
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [paragraph(text("one"))]},
                    {"type": "listItem", "content": [paragraph(text("two"))]},
                ],
            },
            {
                "type": "orderedList",
                "content": [{"type": "listItem", "content": [paragraph(text("first"))]}],
            },
            {"type": "blockquote", "content": [paragraph(text("quoted"))]},
            paragraph(text("a"), {"type": "hardBreak"}, text("b")),
        ],
    }

    assert text_from_document(doc).splitlines() == [
        "## Plan",
        "- one",
        "- two",
        "1. first",
        "> quoted",
        "a",
        "b",
    ]


def test_content_that_is_not_a_document_is_shown_as_it_is() -> None:
    assert text_from_document(None) == ""
    assert text_from_document("plain") == "plain"
    assert text_from_document([1, 2]) == "[1, 2]"
