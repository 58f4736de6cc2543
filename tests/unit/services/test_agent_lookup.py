"""An agent named by id or name is looked up one way: ``AgentService.find``."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from crosswalk.domain.errors import NotFoundError
from crosswalk.services.agents import AgentService
from crosswalk.services.change_stream import ChangeStream
from tests.unit.services.fakes import (
    FakeAgents,
    FakeConversations,
    FakeMessages,
    FakeTasks,
    FakeUnitsOfWork,
    make_agent,
)

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "crosswalk"


@pytest.fixture
def service() -> AgentService:
    alice = make_agent("alice")
    # An agent whose name is another agent's id: the id wins.
    impostor = replace(make_agent("impostor"), name="alice")
    agents = FakeAgents(alice, impostor)
    return AgentService(
        agents=agents,
        tasks=FakeTasks(),
        messages=FakeMessages(),
        conversations=FakeConversations(),
        unit_of_work=FakeUnitsOfWork(ChangeStream(), agents),
    )


def test_an_id_wins_then_a_name_then_nothing(service: AgentService) -> None:
    by_id = service.find("alice")
    assert by_id is not None and by_id.id == "alice"
    assert service.resolve("alice") == by_id
    by_name = service.find("alice-name")
    assert by_name is not None and by_name.id == "alice"
    assert service.find("impostor-name") is None  # renamed: its old name finds nothing
    assert service.find("ghost") is None
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        service.resolve("ghost")


def _id_or_name_lookups(source: str) -> int:
    """``find_by_id(x) or find_by_name(x)`` expressions in ``source``."""

    def calls(node: ast.expr, method: str) -> bool:
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == method
        )

    return sum(
        1
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.BoolOp)
        and isinstance(node.op, ast.Or)
        and any(calls(value, "find_by_id") for value in node.values)
        and any(calls(value, "find_by_name") for value in node.values)
    )


def test_the_lookup_is_written_once() -> None:
    found = {
        str(path.relative_to(PACKAGE)): count
        for path in PACKAGE.rglob("*.py")
        if (count := _id_or_name_lookups(path.read_text()))
    }
    assert found == {"services/agents.py": 1}
    assert _id_or_name_lookups("a = repo.find_by_id(x) or repo.find_by_name(x)") == 1
