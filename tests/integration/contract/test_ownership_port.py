"""The ``OwnershipRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.integration.contract.conftest import Ports

from crosswalk.domain.rows import (
    Agent,
    FileChange,
    MergePreview,
    NewAgent,
    NewInitiative,
    NewPhase,
    NewTask,
    Overlap,
    OverlapNotice,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def world(ports: Ports) -> tuple[str, str, Agent, Agent, Agent]:
    """Two initiatives; alice and bob work tasks of the first, carol one of the second."""
    first = ports.initiatives.create(NewInitiative("auth"))
    second = ports.initiatives.create(NewInitiative("billing"))
    phase = ports.phases.create(NewPhase(first.id, "backend"))
    other_phase = ports.phases.create(NewPhase(second.id, "api"))
    agents = []
    for name, phase_id in (("alice", phase.id), ("bob", phase.id), ("carol", other_phase.id)):
        task = ports.tasks.create(NewTask(f"task of {name}", phase_id=phase_id))
        agents.append(ports.agents.create(NewAgent(".", name=name, task_id=task.id)))
    alice, bob, carol = agents
    return first.id, second.id, alice, bob, carol


def change(
    agent: Agent, initiative: str, path: str, when: int, *, merged: bool = False, lines=((1, 2),)
) -> FileChange:
    return FileChange(agent.id, merged, path, initiative, agent.task_id, lines, at(when))


def test_an_agents_changes_are_replaced_whole_per_side(ports: Ports) -> None:
    first, _, alice, _, _ = world(ports)
    index = ports.ownership
    a = change(alice, first, "src/a.py", 1, lines=((1, 3), (10, 10)))
    b = change(alice, first, "b.txt", 1, lines=())
    index.replace_changes(alice.id, merged=False, changes=[a, b])
    index.replace_changes(
        alice.id, merged=True, changes=[change(alice, first, "old.py", 0, merged=True)]
    )
    assert index.changes_of(alice.id, merged=False) == [b, a]  # by path
    moved = replace(a, lines=((2, 4),), changed_at=at(5))
    index.replace_changes(alice.id, merged=False, changes=[moved])
    assert index.changes_of(alice.id, merged=False) == [moved]
    assert [c.path for c in index.changes_of(alice.id, merged=True)] == ["old.py"]
    index.replace_changes(alice.id, merged=False, changes=[])
    assert index.changes_of(alice.id, merged=False) == []


def test_owners_of_a_path_newest_first_with_task_and_phase(ports: Ports) -> None:
    first, second, alice, bob, carol = world(ports)
    index = ports.ownership
    index.replace_changes(
        alice.id, merged=True, changes=[change(alice, first, "x.py", 1, merged=True)]
    )
    index.replace_changes(bob.id, merged=False, changes=[change(bob, first, "x.py", 2)])
    index.replace_changes(carol.id, merged=False, changes=[change(carol, second, "x.py", 3)])
    owners = index.owners("x.py", initiative_id=first)
    assert [(o.agent.name, o.change.merged) for o in owners] == [("bob", False), ("alice", True)]
    bob_task = ports.tasks.get(bob.task_id or "")
    assert (owners[0].task_name, owners[0].phase_id) == (bob_task.name, bob_task.phase_id)
    assert owners[0].agent == ports.agents.get(bob.id)
    assert owners[0].change == change(bob, first, "x.py", 2)
    everywhere = index.owners("x.py", initiative_id=None)
    assert [o.agent.name for o in everywhere] == ["carol", "bob", "alice"]
    assert index.owners("y.py", initiative_id=first) == []


def test_overlaps_are_files_of_several_agents_unmerged_work(ports: Ports) -> None:
    first, second, alice, bob, carol = world(ports)
    index = ports.ownership
    index.replace_changes(
        alice.id,
        merged=False,
        changes=[change(alice, first, "shared.py", 1), change(alice, first, "mine.py", 1)],
    )
    index.replace_changes(
        bob.id,
        merged=False,
        changes=[change(bob, first, "shared.py", 2), change(bob, first, "alone.py", 2)],
    )
    index.replace_changes(
        bob.id, merged=True, changes=[change(bob, first, "mine.py", 3, merged=True)]
    )
    index.replace_changes(carol.id, merged=False, changes=[change(carol, second, "mine.py", 4)])
    assert index.overlaps(first) == [Overlap("shared.py", (bob.id, alice.id))]
    assert index.overlaps(second) == []


def test_a_notice_is_stored_once_and_delivered_once(ports: Ports) -> None:
    first, _, alice, bob, _ = world(ports)
    index = ports.ownership
    to_alice = OverlapNotice(alice.id, bob.id, "x.py", first, at(1), None)
    to_bob = OverlapNotice(bob.id, alice.id, "x.py", first, at(1), None)
    later = OverlapNotice(alice.id, bob.id, "y.py", first, at(2), None)
    assert index.add_notices([to_alice, to_bob]) == [to_alice, to_bob]
    assert index.add_notices([to_alice, later, later]) == [later]
    assert index.add_notices([]) == []
    assert index.undelivered_notices(alice.id) == [to_alice, later]
    assert index.mark_notices_delivered(alice.id, [(bob.id, "x.py"), (bob.id, "nope")], at(3)) == 1
    assert index.mark_notices_delivered(alice.id, [(bob.id, "x.py")], at(4)) == 0
    assert index.mark_notices_delivered(alice.id, [], at(4)) == 0
    assert index.undelivered_notices(alice.id) == [later]
    assert index.undelivered_notices(bob.id) == [to_bob]


def test_previews_are_saved_per_pair_and_dropped_with_an_agent(ports: Ports) -> None:
    first, second, alice, bob, carol = world(ports)
    index = ports.ownership
    clean = MergePreview(alice.id, bob.id, first, False, (), at(1))
    index.save_preview(clean)
    conflicting = replace(clean, conflicts=True, files=("x.py", "y.py"), checked_at=at(2))
    index.save_preview(conflicting)
    index.save_preview(MergePreview(bob.id, carol.id, second, False, (), at(3)))
    assert index.previews(first) == [conflicting]
    assert index.drop_previews(bob.id) == 2
    assert index.previews(first) == index.previews(second) == []
