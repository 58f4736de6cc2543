"""Target resolution for `conversation.ask`, case by case (docs/contract.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest

from crosswalk.domain.enums import AgentStatus
from crosswalk.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PreconditionFailedError,
)
from crosswalk.domain.rows import Agent, FileChange, Phase, Task
from crosswalk.services.targets import (
    AgentTarget,
    FileTarget,
    PhaseTarget,
    TaskTarget,
    resolve_target,
)
from tests.unit.services.fake_ownership import FakeOwnership
from tests.unit.services.fakes import (
    FakeAgents,
    FakePhases,
    FakeTasks,
    make_agent,
    make_phase,
    make_task,
    tick,
)


def world(
    *agents: Agent, tasks: Iterable[Task] = (), phases: Iterable[Phase] = ()
) -> dict[str, Any]:
    return {"agents": FakeAgents(*agents, tasks=FakeTasks(*tasks, phases=FakePhases(*phases)))}


ASKER = make_agent("asker")


def test_agent_by_id_records_its_task_phase_and_initiative() -> None:
    target = make_agent("bob", task_id="t1")
    repos = world(ASKER, target, tasks=[make_task("t1", phase_id="p1", initiative_id="i1")])
    resolved = resolve_target(AgentTarget("bob"), ASKER, **repos)
    assert resolved.agent.id == "bob"
    assert (resolved.task_id, resolved.phase_id, resolved.initiative_id) == ("t1", "p1", "i1")


def test_agent_by_name() -> None:
    repos = world(ASKER, make_agent("bob"))
    resolved = resolve_target(AgentTarget("bob-name"), ASKER, **repos)
    assert resolved.agent.id == "bob"
    assert resolved.task_id is None


def test_unknown_agent_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="agent 'ghost' not found"):
        resolve_target(AgentTarget("ghost"), ASKER, **world(ASKER))


@pytest.mark.parametrize("status", [AgentStatus.STOPPED, AgentStatus.CRASHED])
def test_stopped_or_crashed_agent_is_a_failed_precondition(status: AgentStatus) -> None:
    repos = world(ASKER, make_agent("bob", status=status))
    with pytest.raises(PreconditionFailedError, match=status.value):
        resolve_target(AgentTarget("bob"), ASKER, **repos)


def test_asking_oneself_is_bad_request() -> None:
    with pytest.raises(InvalidInputError, match="cannot ask itself"):
        resolve_target(AgentTarget("asker"), ASKER, **world(ASKER))


def test_task_picks_the_most_recently_updated_active_agent() -> None:
    older = make_agent("older", task_id="t1")
    newer = make_agent("newer", task_id="t1")
    stopped = make_agent("stopped", task_id="t1", status=AgentStatus.STOPPED)
    repos = world(ASKER, older, newer, stopped, tasks=[make_task("t1", phase_id="p1")])
    resolved = resolve_target(TaskTarget("t1"), ASKER, **repos)
    assert resolved.agent.id == "newer"
    assert (resolved.task_id, resolved.phase_id) == ("t1", "p1")


def test_task_with_nobody_active_is_not_found_with_the_spec_message() -> None:
    repos = world(
        ASKER,
        make_agent("gone", task_id="t1", status=AgentStatus.CRASHED),
        tasks=[make_task("t1", phase_id=None)],
    )
    with pytest.raises(NotFoundError, match="no active agent is working on task 't1'"):
        resolve_target(TaskTarget("t1"), ASKER, **repos)


def test_unknown_task_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="task 'nope' not found"):
        resolve_target(TaskTarget("nope"), ASKER, **world(ASKER))


def test_task_worked_only_by_the_asker_is_asking_oneself() -> None:
    me = make_agent("me", task_id="t1")
    repos = world(me, tasks=[make_task("t1", phase_id=None)])
    with pytest.raises(InvalidInputError, match="cannot ask itself"):
        resolve_target(TaskTarget("t1"), me, **repos)


def test_task_skips_the_asker_for_a_colleague() -> None:
    me = make_agent("me", task_id="t1")
    colleague = make_agent("colleague", task_id="t1")
    repos = world(me, colleague, tasks=[make_task("t1", phase_id=None)])
    assert resolve_target(TaskTarget("t1"), me, **repos).agent.id == "colleague"


def test_phase_with_one_other_active_agent_resolves_to_it() -> None:
    me = make_agent("me", task_id="t1")
    other = make_agent("other", task_id="t2")
    repos = world(
        me,
        other,
        tasks=[make_task("t1", phase_id="p1"), make_task("t2", phase_id="p1")],
        phases=[make_phase("p1", initiative_id="i9")],
    )
    resolved = resolve_target(PhaseTarget("p1"), me, **repos)
    assert resolved.agent.id == "other"
    assert (resolved.task_id, resolved.phase_id, resolved.initiative_id) == ("t2", "p1", "i9")


def test_phase_with_several_candidates_is_a_conflict_listing_each() -> None:
    a = make_agent("a", task_id="t1")
    b = make_agent("b", task_id="t2")
    repos = world(
        ASKER,
        a,
        b,
        tasks=[make_task("t1", phase_id="p1"), make_task("t2", phase_id="p1")],
        phases=[make_phase("p1")],
    )
    with pytest.raises(ConflictError) as raised:
        resolve_target(PhaseTarget("p1"), ASKER, **repos)
    message = raised.value.message
    for text in ("a-name (a) on task 't1'", "b-name (b) on task 't2'", "--agent", "--task"):
        assert text in message


def test_phase_with_nobody_is_not_found() -> None:
    repos = world(ASKER, phases=[make_phase("p1")])
    with pytest.raises(NotFoundError, match="phase 'p1'"):
        resolve_target(PhaseTarget("p1"), ASKER, **repos)


def test_unknown_phase_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="phase 'p404' not found"):
        resolve_target(PhaseTarget("p404"), ASKER, **world(ASKER))


# --- by file: the ownership index --------------------------------------------------


def in_initiative(agent: Agent, initiative_id: str = "init") -> Agent:
    return replace(agent, initiative_id=initiative_id)


ME = in_initiative(make_agent("me", task_id="t-me"))


def owned(
    *owners: tuple[Agent, str, bool, tuple[tuple[int, int], ...]],
    asker: Agent = ME,
) -> dict[str, Any]:
    """A world where each (agent, path, merged, lines) is in the index, newest last."""
    agents = [asker, *(owner[0] for owner in owners)]
    tasks = [make_task(a.task_id, phase_id="p1") for a in dict.fromkeys(agents) if a.task_id]
    repos = world(*dict.fromkeys(agents), tasks=tasks)
    index = FakeOwnership(repos["agents"])
    for agent, path, merged, lines in owners:
        stamp = tick()
        change = FileChange(agent.id, merged, path, "init", agent.task_id, lines, stamp)
        index.changes[agent.id, merged, path] = change
    return {**repos, "ownership": index}


ALICE = in_initiative(make_agent("alice", task_id="t-alice"))
BOB = in_initiative(make_agent("bob", task_id="t-bob"))


def test_file_reaches_the_one_agent_whose_unmerged_work_changed_it() -> None:
    repos = owned((ALICE, "src/a.py", False, ((1, 5),)), (BOB, "src/b.py", False, ((1, 5),)))
    resolved = resolve_target(FileTarget("src/a.py"), ME, **repos)
    assert resolved.agent.id == "alice"
    assert (resolved.task_id, resolved.phase_id, resolved.initiative_id) == (
        "t-alice",
        "p1",
        "init",
    )
    assert resolve_target(FileTarget("src/b.py"), ME, **repos).agent.id == "bob"


def test_file_changed_by_several_unmerged_works_is_a_conflict_listing_each() -> None:
    repos = owned((ALICE, "x.py", False, ((1, 5),)), (BOB, "x.py", False, ((20, 30),)))
    with pytest.raises(ConflictError) as refused:
        resolve_target(FileTarget("x.py"), ME, **repos)
    message = refused.value.message
    for text in ("alice-name (alice", "t-alice", "bob-name (bob", "t-bob", "running"):
        assert text in message
    assert "--agent" in message and "PATH:LINE" in message


def test_with_a_line_the_change_covering_it_wins() -> None:
    repos = owned((ALICE, "x.py", False, ((1, 5),)), (BOB, "x.py", False, ((20, 30),)))
    assert resolve_target(FileTarget("x.py", 3), ME, **repos).agent.id == "alice"
    assert resolve_target(FileTarget("x.py", 25), ME, **repos).agent.id == "bob"
    with pytest.raises(ConflictError):  # covered by neither: still both
        resolve_target(FileTarget("x.py", 12), ME, **repos)


def test_unmerged_work_wins_over_a_merged_task_then_the_latest_merge_answers() -> None:
    carol = in_initiative(make_agent("carol", task_id="t-carol", status=AgentStatus.IDLE))
    repos = owned(
        (carol, "x.py", True, ((1, 2),)),
        (ALICE, "x.py", True, ((1, 2),)),
        (BOB, "x.py", False, ((1, 2),)),
    )
    assert resolve_target(FileTarget("x.py"), ME, **repos).agent.id == "bob"
    merged_only = owned((carol, "x.py", True, ((1, 2),)), (ALICE, "x.py", True, ((8, 9),)))
    assert resolve_target(FileTarget("x.py"), ME, **merged_only).agent.id == "alice"
    assert resolve_target(FileTarget("x.py", 2), ME, **merged_only).agent.id == "carol"


def test_a_stopped_owner_cannot_answer_and_the_asker_is_not_its_own_owner() -> None:
    gone = in_initiative(make_agent("gone", task_id="t-gone", status=AgentStatus.CRASHED))
    with pytest.raises(PreconditionFailedError, match=r"gone-name .*crashed"):
        resolve_target(FileTarget("x.py"), ME, **owned((gone, "x.py", False, ())))
    with pytest.raises(InvalidInputError, match="only your own work"):
        resolve_target(FileTarget("x.py"), ME, **owned((ME, "x.py", False, ())))
    repos = owned((ME, "x.py", False, ()), (ALICE, "x.py", False, ()))
    assert resolve_target(FileTarget("x.py"), ME, **repos).agent.id == "alice"


def test_a_file_nobody_changed_is_not_found_and_other_initiatives_do_not_count() -> None:
    elsewhere = in_initiative(make_agent("far", task_id="t-far"), "other")
    repos = owned((ALICE, "x.py", False, ()))
    with pytest.raises(NotFoundError, match=r"no agent of initiative 'init' changed 'y\.py'"):
        resolve_target(FileTarget("y.py"), ME, **repos)
    with pytest.raises(NotFoundError):
        resolve_target(FileTarget("x.py"), elsewhere, **repos)


def test_an_asker_outside_any_initiative_is_told_to_ask_otherwise() -> None:
    loner = make_agent("loner")
    with pytest.raises(PreconditionFailedError, match="belongs to no initiative"):
        resolve_target(FileTarget("x.py"), loner, **owned((ALICE, "x.py", False, ()), asker=loner))
