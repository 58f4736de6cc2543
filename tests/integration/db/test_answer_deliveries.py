"""The answer-delivery repository: answers to ``--no-wait`` questions, handed out once."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.dialects import sqlite

from crosswalk.db import Repositories
from crosswalk.db.repositories.sqlalchemy.answer_delivery import UNDELIVERED
from crosswalk.domain.rows import NewAgent, NewConversation


def test_expected_answers_are_found_once_answered_and_only_until_delivered(
    repos: Repositories,
) -> None:
    asker = repos.agents.create(NewAgent(worktree_id="/a", name="asker"))
    other = repos.agents.create(NewAgent(worktree_id="/b", name="other"))
    ask = repos.conversations.create
    waited = ask(NewConversation(from_agent_id=asker.id, to_agent_id=other.id, question="w"))
    first = ask(NewConversation(from_agent_id=asker.id, to_agent_id=other.id, question="1"))
    second = ask(NewConversation(from_agent_id=asker.id, to_agent_id=other.id, question="2"))
    for conversation in (first, second, second):  # a retried ask records nothing twice
        repos.answer_deliveries.expect(conversation.id, asker.id)
    assert repos.answer_deliveries.find_undelivered(asker.id) == []  # none answered yet

    for conversation in (waited, second, first):
        repos.conversations.answer(conversation.id, f"answer {conversation.question}")

    found = repos.answer_deliveries.find_undelivered(asker.id)
    assert {c.id: c.answer for c in found} == {first.id: "answer 1", second.id: "answer 2"}
    assert repos.answer_deliveries.find_undelivered(other.id) == []
    assert repos.answer_deliveries.mark_delivered(other.id, [first.id]) == 0  # not its own
    assert repos.answer_deliveries.mark_delivered(asker.id, [first.id, second.id]) == 2
    assert repos.answer_deliveries.mark_delivered(asker.id, [first.id]) == 0
    assert repos.answer_deliveries.find_undelivered(asker.id) == []


def test_the_lookup_uses_the_agent_index(engine: Engine) -> None:
    compiled = UNDELIVERED.statement.params(agent_id="a" * 21).compile(dialect=sqlite.dialect())
    values = compiled.construct_params()
    positional = tuple(values[name] for name in compiled.positiontup or ())
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional)
        plan = [str(row[-1]) for row in rows]
    assert any("ix_answer_deliveries_agent_id_delivered_at" in step for step in plan), plan
    assert not any(step.startswith("SCAN conversations") for step in plan), plan
