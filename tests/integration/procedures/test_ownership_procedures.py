"""Asking by file over the tRPC wire, ``file.owners``, the overlap notices the hooks take
from ``agent.checkIn``, and what ``initiative.status`` shows of overlapping work; the
index is fed as the tracker feeds it, through ``OwnershipService``."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.procedures.planning_api import Api

from crosswalk.domain.rows import Agent, MergePreview, PathChange
from crosswalk.server.web import views
from crosswalk.services.ownership import OwnershipService


class Team:
    """An initiative with a phase; agents on tasks of their own in it."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.initiative = api.mutation("initiative.create", {"name": "auth"})["id"]
        self.phase = api.mutation("phase.create", {"initiativeId": self.initiative, "name": "b"})
        services = api.app.services
        self.ownership = OwnershipService(services.repos.ownership, services.unit_of_work)

    def agent(self, name: str) -> tuple[dict[str, Any], Api]:
        task = self.api.mutation(
            "task.create", {"name": f"{name}'s task", "phaseId": self.phase["id"]}
        )
        made = self.api.mutation(
            "agent.create", {"name": name, "taskId": task["id"], "initiativeId": self.initiative}
        )
        return made, self.api.as_token(made["token"])

    def row(self, agent: dict[str, Any]) -> Agent:
        return self.api.app.services.repos.agents.get(agent["id"])

    def worked(self, agent: dict[str, Any], *changes: PathChange) -> None:
        self.ownership.record_work(self.row(agent), self.initiative, changes)

    def landed(self, agent: dict[str, Any], *changes: PathChange) -> None:
        self.ownership.landed(self.row(agent), self.initiative, changes)


@pytest.fixture
def team(api: Api) -> Team:
    return Team(api)


def ask(as_agent: Api, agent: dict[str, Any], **target: Any) -> dict[str, Any]:
    payload = {"fromAgentId": agent["id"], "question": "why?", **target}
    asked: dict[str, Any] = as_agent.mutation("conversation.ask", payload)
    return asked


def test_an_ask_by_file_reaches_the_agent_whose_work_changed_it(team: Team) -> None:
    alice, _ = team.agent("alice")
    bob, _ = team.agent("bob")
    me, as_me = team.agent("me")
    team.worked(alice, PathChange("src/a.py", ((1, 10),)))
    team.worked(bob, PathChange("src/b.py", ((1, 10),)))

    asked = ask(as_me, me, file="./src//a.py")
    assert (asked["toAgentId"], asked["targetKind"]) == (alice["id"], "file")
    assert asked["taskId"] == alice["taskId"]
    assert ask(as_me, me, file="src/b.py", line=3)["toAgentId"] == bob["id"]


def test_several_unmerged_works_conflict_and_a_line_decides(team: Team) -> None:
    alice, _ = team.agent("alice")
    bob, _ = team.agent("bob")
    me, as_me = team.agent("me")
    team.worked(alice, PathChange("x.py", ((1, 5),)))
    team.worked(bob, PathChange("x.py", ((20, 30),)))
    payload = {"fromAgentId": me["id"], "question": "?", "file": "x.py"}
    error = as_me.fails("mutation", "conversation.ask", payload)
    assert error.code == "CONFLICT"
    for listed in ("alice", alice["taskId"], "bob", bob["taskId"], "idle"):
        assert listed in error.message
    assert ask(as_me, me, file="x.py", line=25)["toAgentId"] == bob["id"]


def test_a_merged_tasks_agent_answers_when_no_unmerged_work_changed_the_file(team: Team) -> None:
    alice, _ = team.agent("alice")
    me, as_me = team.agent("me")
    team.worked(alice, PathChange("x.py"))
    team.landed(alice, PathChange("x.py", ((1, 3),)))
    assert ask(as_me, me, file="x.py")["toAgentId"] == alice["id"]
    error = as_me.fails(
        "mutation", "conversation.ask", {"fromAgentId": me["id"], "question": "?", "file": "y.py"}
    )
    assert error.code == "NOT_FOUND"
    assert f"no agent of initiative '{team.initiative}' changed 'y.py'" in error.message


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ({"file": "/etc/passwd"}, "is absolute"),
        ({"file": "../up.py"}, "not a file inside the repository"),
        ({"file": "a.py", "line": 0}, "line"),
        ({"toAgentId": "x", "line": 3}, "line goes only with file"),
        (
            {"toAgentId": "x", "file": "a.py"},
            "exactly one target: toAgentId, taskId, phaseId or file",
        ),
        ({}, "exactly one target"),
    ],
)
def test_a_wrong_file_target_is_refused_at_the_wire(
    team: Team, target: dict[str, Any], says: str
) -> None:
    me, as_me = team.agent("me")
    payload = {"fromAgentId": me["id"], "question": "?", **target}
    error = as_me.fails("mutation", "conversation.ask", payload)
    assert error.code == "BAD_REQUEST"
    assert says in error.message


def test_file_owners_lists_the_newest_change_first_within_the_callers_initiative(
    team: Team, api: Api
) -> None:
    alice, _ = team.agent("alice")
    bob, as_bob = team.agent("bob")
    team.worked(alice, PathChange("x.py"))
    team.landed(alice, PathChange("x.py", ((2, 4),)))
    team.worked(bob, PathChange("x.py", ((7, 7),)))
    found = as_bob.query("file.owners", {"path": "x.py"})
    assert found["path"] == "x.py"
    assert [(o["agentName"], o["merged"], o["lines"]) for o in found["owners"]] == [
        ("bob", False, [[7, 7]]),
        ("alice", True, [[2, 4]]),
    ]
    assert found["owners"][0]["taskName"] == "bob's task"
    other = api.mutation("initiative.create", {"name": "elsewhere"})["id"]
    error = as_bob.fails("query", "file.owners", {"path": "x.py", "initiativeId": other})
    assert error.code == "FORBIDDEN"
    assert api.query("file.owners", {"path": "x.py", "initiativeId": other})["owners"] == []
    assert len(api.query("file.owners", {"path": "x.py"})["owners"]) == 2


def test_overlapping_agents_are_each_told_once_through_check_in(team: Team) -> None:
    alice, as_alice = team.agent("alice")
    bob, as_bob = team.agent("bob")
    team.worked(alice, PathChange("shared.py"), PathChange("mine.py"))
    team.worked(bob, PathChange("shared.py"))

    def told(as_agent: Api, agent: dict[str, Any], take: bool = True) -> list[Any]:
        found = as_agent.mutation("agent.checkIn", {"agentId": agent["id"], "takeAnswers": take})
        overlaps: list[Any] = found["overlaps"]
        return overlaps

    assert told(as_alice, alice, take=False) == []  # a Stop takes nothing
    [to_alice] = told(as_alice, alice)
    assert (to_alice["file"], to_alice["agentName"], to_alice["taskName"]) == (
        "shared.py",
        "bob",
        "bob's task",
    )
    assert told(as_alice, alice) == []
    assert [o["agentName"] for o in told(as_bob, bob)] == ["alice"]
    team.worked(bob, PathChange("shared.py", ((9, 9),)))
    assert told(as_bob, bob) == []


def test_initiative_status_shows_overlaps_and_merge_previews(team: Team, api: Api) -> None:
    alice, _ = team.agent("alice")
    bob, _ = team.agent("bob")
    team.worked(alice, PathChange("shared.py"))
    team.worked(bob, PathChange("shared.py"))
    first, second = sorted((alice["id"], bob["id"]))
    team.ownership.record_preview(
        MergePreview(
            first, second, team.initiative, True, ("shared.py",), team.ownership.clock.now()
        )
    )
    status = api.query("initiative.status", {"id": team.initiative})
    [overlap] = status["overlaps"]
    assert overlap["file"] == "shared.py"
    assert sorted(overlap["agents"]) == [first, second]
    [preview] = status["mergePreview"]
    assert (preview["agents"], preview["conflicts"], preview["files"]) == (
        [first, second],
        True,
        ["shared.py"],
    )
    shown = views.initiative(api.app.services, team.initiative)  # the page shows the same
    assert shown["overlaps"][0]["file"] == "shared.py"
    assert shown["mergePreview"][0]["conflicts"] is True
