"""The batch reads a dashboard page makes (rows by lists of ids, one read each), for the
fakes and the SQLAlchemy adapters alike: each returns what the one-row reads would."""

from __future__ import annotations

from tests.integration.contract.conftest import Ports

from crosswalk.domain.enums import ParticipantType
from crosswalk.domain.rows import (
    NewAgent,
    NewInitiative,
    NewLogChunk,
    NewMessage,
    NewPhase,
    NewTask,
)


def test_tasks_phases_and_their_prerequisites_by_ids(ports: Ports) -> None:
    initiative = ports.initiatives.create(NewInitiative("auth", merge_requires_approval=True))
    build = ports.phases.create(NewPhase(initiative.id, "build"))
    ship = ports.phases.create(NewPhase(initiative.id, "ship"))
    ports.phases.create_dependency(ship.id, build.id)
    first = ports.tasks.create(NewTask("first", phase_id=build.id))
    second = ports.tasks.create(NewTask("second", phase_id=build.id, requires_approval=False))
    third = ports.tasks.create(NewTask("third", phase_id=ship.id))
    ports.tasks.create_dependency(third.id, first.id)
    ports.tasks.create_dependency(third.id, second.id)
    tasks, phases = ports.tasks, ports.phases

    assert tasks.find_by_ids({third.id, first.id, "ghost"}) == [first, third]
    assert tasks.find_by_ids([]) == []
    assert phases.find_by_ids([ship.id, build.id]) == [build, ship]
    assert tasks.prerequisite_ids_of([third.id, first.id]) == {
        third.id: sorted([first.id, second.id]),
        first.id: [],
    }
    assert phases.prerequisite_ids_of([ship.id, build.id]) == {ship.id: [build.id], build.id: []}
    assert tasks.requires_approval_of([first.id, second.id, "ghost"]) == {
        first.id: tasks.requires_approval(first.id),
        second.id: tasks.requires_approval(second.id),
    }
    assert tasks.requires_approval_of([first.id]) == {first.id: True}


def test_agents_by_ids_and_tasks_and_their_session_counts(ports: Ports) -> None:
    task = ports.tasks.create(NewTask("code"))
    other = ports.tasks.create(NewTask("test"))
    one = ports.agents.create(NewAgent("wt-1", name="one", task_id=task.id))
    two = ports.agents.create(NewAgent("wt-2", name="two", task_id=other.id))
    three = ports.agents.create(NewAgent("wt-3", name="three"))
    agents = ports.agents

    assert agents.find_by_ids([three.id, one.id, "ghost"]) == [one, three]
    assert {a.id for a in agents.find_by_task_ids([task.id, other.id])} == {one.id, two.id}
    assert agents.find_by_task_ids([task.id, other.id]) == sorted(
        [one, two], key=lambda a: (a.updated_at, a.id), reverse=True
    )
    assert agents.find_by_task_ids([]) == []
    for session in (1, 3):
        ports.log_chunks.insert_chunk(NewLogChunk(one.id, "one", "{}", session))
    ports.log_chunks.insert_chunk(NewLogChunk(two.id, "two", "{}"))
    assert ports.log_chunks.session_counts([one.id, two.id, three.id]) == {
        one.id: 3,
        two.id: 1,
        three.id: 0,
    }


def test_what_the_person_told_several_agents_newest_first(ports: Ports) -> None:
    one = ports.agents.create(NewAgent("wt-1", name="one"))
    two = ports.agents.create(NewAgent("wt-2", name="two"))
    user, agent = ParticipantType.USER, ParticipantType.AGENT
    told = [
        ports.messages.create(NewMessage(user, agent, f"m{n}", recipient_id=to.id))
        for n, to in enumerate([one, two, one])
    ]
    ports.messages.create(NewMessage(agent, user, "from the agent", sender_id=one.id))

    assert ports.messages.find_told([one.id, two.id], limit=10) == told[::-1]
    assert ports.messages.find_told([one.id], limit=1) == [told[2]]
    assert ports.messages.find_told([], limit=10) == []
