"""The ownership index's rules (``OwnershipService``), on the in-memory fakes."""

from __future__ import annotations

from dataclasses import replace

from crosswalk.domain.events import Action, EntityChanged
from crosswalk.domain.rows import Agent, MergePreview, PathChange
from crosswalk.services.change_stream import ChangeStream
from crosswalk.services.ownership import OwnershipService
from tests.unit.services.fake_clock import FakeClock
from tests.unit.services.fake_ownership import FakeOwnership
from tests.unit.services.fakes import FakeAgents, FakeUnitsOfWork, make_agent

ALICE = replace(make_agent("alice", task_id="t-a"), initiative_id="init")
BOB = replace(make_agent("bob", task_id="t-b"), initiative_id="init")


def service(*agents: Agent) -> tuple[OwnershipService, FakeOwnership, FakeUnitsOfWork, FakeClock]:
    index = FakeOwnership(FakeAgents(*agents))
    units = FakeUnitsOfWork(ChangeStream(), index)
    clock = FakeClock()
    return OwnershipService(index, units, clock=clock), index, units, clock


def test_work_is_recorded_and_an_unmoved_change_keeps_when_it_was_first_seen() -> None:
    ownership, index, units, clock = service(ALICE)
    ownership.record_work(ALICE, "init", [PathChange("a.py", ((1, 3),)), PathChange("b.py")])
    first = {c.path: c.changed_at for c in index.changes_of("alice", merged=False)}
    assert set(first) == {"a.py", "b.py"}
    clock.advance(1)
    ownership.record_work(ALICE, "init", [PathChange("a.py", ((1, 4),)), PathChange("b.py")])
    second = {c.path: c.changed_at for c in index.changes_of("alice", merged=False)}
    assert second["b.py"] == first["b.py"]
    assert second["a.py"] == clock.now() != first["a.py"]
    published = len(units.committed)
    ownership.record_work(ALICE, "init", [PathChange("a.py", ((1, 4),)), PathChange("b.py")])
    assert len(units.committed) == published  # nothing moved: nothing written
    assert units.published[-1] == EntityChanged("fileChanges", "alice", Action.UPDATED)


def test_two_agents_sharing_a_file_are_each_told_once() -> None:
    ownership, index, _, _ = service(ALICE, BOB)
    assert ownership.record_work(ALICE, "init", [PathChange("x.py"), PathChange("a.py")]) == []
    told = ownership.record_work(BOB, "init", [PathChange("x.py")])
    assert {(n.agent_id, n.other_agent_id, n.path) for n in told} == {
        ("alice", "bob", "x.py"),
        ("bob", "alice", "x.py"),
    }
    assert ownership.record_work(BOB, "init", [PathChange("x.py", ((2, 2),))]) == []
    ownership.record_work(BOB, "init", [])
    assert ownership.record_work(BOB, "init", [PathChange("x.py")]) == []  # told already
    assert [n.path for n in index.undelivered_notices("alice")] == ["x.py"]


def test_landing_makes_the_work_merged_and_forgets_its_previews() -> None:
    ownership, index, _, clock = service(ALICE, BOB)
    ownership.record_work(ALICE, "init", [PathChange("x.py"), PathChange("y.py")])
    ownership.landed(ALICE, "init", [PathChange("old.py")])
    clock.advance(1)
    index.save_preview(MergePreview("alice", "bob", "init", True, ("x.py",), clock.now()))
    ownership.landed(ALICE, "init", [PathChange("x.py", ((1, 9),)), PathChange("y.py")])
    assert index.changes_of("alice", merged=False) == []
    merged = {c.path: c for c in index.changes_of("alice", merged=True)}
    assert set(merged) == {"old.py", "x.py", "y.py"}
    assert merged["x.py"].lines == ((1, 9),) and merged["x.py"].changed_at == clock.now()
    assert index.saved_previews == {}
