"""docs/api.md is generated from the router: it must say what the server serves."""

from __future__ import annotations

from pathlib import Path

from crosswalk.server.apidoc import render
from crosswalk.server.app import build_router

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_the_committed_reference_matches_the_router() -> None:
    assert DOC.read_text() == render(build_router()), (
        "docs/api.md is stale: run `python -m crosswalk.server.apidoc > docs/api.md`"
    )


def test_every_procedure_is_documented_with_its_input() -> None:
    text = render(build_router())
    for procedure in build_router():
        assert f"| `{procedure.path}` | {procedure.kind}" in text
    ask = "`{fromAgentId?: string | null, question: string, toAgentId?: string | null"
    assert ask in text.replace("\\|", "|")
    assert "| `health` | query (public) | none |" in text
