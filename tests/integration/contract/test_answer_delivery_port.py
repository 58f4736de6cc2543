"""The ``AnswerDeliveryRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from tests.integration.contract.conftest import Ports

from crosswalk.domain.rows import NewAgent, NewConversation


def test_an_expected_answer_is_delivered_once(ports: Ports) -> None:
    alice = ports.agents.create(NewAgent(".", name="alice"))
    bob = ports.agents.create(NewAgent(".", name="bob"))
    ask = ports.conversations.create
    first, second, unanswered = (ask(NewConversation(alice.id, bob.id, f"q{n}")) for n in range(3))
    deliveries = ports.answer_deliveries
    for conversation in (first, second, unanswered):
        deliveries.expect(conversation.id, alice.id)
    deliveries.expect(first.id, alice.id)  # a second call changes nothing

    assert deliveries.find_undelivered(alice.id) == []
    answered_second = ports.conversations.answer(second.id, "a2")
    answered_first = ports.conversations.answer(first.id, "a1")
    assert deliveries.find_undelivered(alice.id) == [answered_second, answered_first]
    assert deliveries.find_undelivered(bob.id) == []

    assert deliveries.mark_delivered(bob.id, [first.id]) == 0
    assert deliveries.mark_delivered(alice.id, [first.id, first.id, "nope"]) == 1
    assert deliveries.mark_delivered(alice.id, [first.id]) == 0
    assert deliveries.mark_delivered(alice.id, []) == 0
    assert deliveries.find_undelivered(alice.id) == [answered_second]
