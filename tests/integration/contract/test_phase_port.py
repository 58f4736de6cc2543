"""The ``PhaseRepository`` contract, for the fake and the SQLAlchemy adapter."""

from __future__ import annotations

import pytest
from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import PhaseStatus
from crosswalk.domain.errors import ConflictError, NotFoundError
from crosswalk.domain.rows import NewInitiative, NewPhase


def test_create_find_update_and_delete(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("auth"))
    other = ports.initiatives.create(NewInitiative("billing"))
    phases = ports.phases
    with pytest.raises(NotFoundError, match="initiative 'ghost' not found"):
        phases.create(NewPhase("ghost", "build"))
    design, build = (phases.create(NewPhase(initiative.id, n)) for n in ("design", "build"))
    theirs = phases.create(NewPhase(other.id, "ship"))

    assert design.status is PhaseStatus.PENDING
    assert phases.find_by_initiative_id(initiative.id) == [design, build]
    started = phases.update(build.id, {"status": PhaseStatus.IN_PROGRESS})
    assert phases.get(build.id) == started and started.updated_at > build.updated_at
    assert phases.list_page(status=PhaseStatus.IN_PROGRESS).items == [started]
    assert phases.list_page(initiative_id=other.id).items == [theirs]
    phases.delete(theirs.id)
    assert phases.find_by_id(theirs.id) is None
    with pytest.raises(NotFoundError, match=f"phase '{theirs.id}' not found"):
        phases.get(theirs.id)


def test_dependencies_are_stored_once_and_read_both_ways(ports: Ports) -> None:
    """The port stores edges; cycles and initiatives are PlanningService's rules."""
    initiative = ports.initiatives.create(NewInitiative("auth"))
    phases = ports.phases
    design, build, ship = (
        phases.create(NewPhase(initiative.id, n)) for n in ("design", "build", "ship")
    )
    edge = phases.create_dependency(ship.id, build.id)
    phases.create_dependency(ship.id, design.id)

    assert (edge.phase_id, edge.depends_on_phase_id) == (ship.id, build.id)
    assert phases.find_dependency(ship.id, build.id) == edge
    assert phases.find_dependency(build.id, ship.id) is None
    assert phases.prerequisite_ids(ship.id) == sorted([design.id, build.id])
    assert phases.get_dependencies(ship.id) == [design, build]
    assert phases.get_dependents(build.id) == [ship]
    with pytest.raises(ConflictError):
        phases.create_dependency(ship.id, build.id)
    with pytest.raises(NotFoundError, match="phase 'ghost' not found"):
        phases.create_dependency(ship.id, "ghost")
    phases.lock_dependency_graph(initiative.id)  # nothing to hold outside a transaction

    phases.remove_dependency(ship.id, build.id)
    assert phases.prerequisite_ids(ship.id) == [design.id]
    with pytest.raises(NotFoundError, match="does not depend on"):
        phases.remove_dependency(ship.id, build.id)


def test_find_by_ref_finds_by_id_name_or_id_prefix(ports: Ports) -> None:
    from crosswalk.domain.rows import NewInitiative, NewPhase

    initiative = ports.initiatives.create(NewInitiative("Auth"))
    build = ports.phases.create(NewPhase(initiative.id, "Build"))
    ports.phases.create(NewPhase(initiative.id, "Ship"))
    assert ports.phases.find_by_ref(build.id, 5) == [build]
    assert ports.phases.find_by_ref("Build", 5) == [build]
    assert ports.phases.find_by_ref(build.id[:10], 5) == [build]
