"""Planning through the real `cw` and the real server: initiatives, phases, tasks with
dependencies and approval, projects and pages.

Every step is a separate `cw` process against a `cw serve` subprocess, as a person at
a terminal (or a coordinator script) would run them.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def ok(server: ServerProcess, *args: str, input: str | None = None) -> str:
    """Run `cw`, require success, return its stdout."""
    done = server.cw(*args, input=input)
    assert done.returncode == 0, f"cw {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return done.stdout


def js(server: ServerProcess, *args: str, input: str | None = None) -> Any:
    """Run `cw ... --json`, require success, return the parsed document."""
    return json.loads(ok(server, *args, "--json", input=input))


def refused(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    done = server.cw(*args)
    assert done.returncode == 1, f"cw {' '.join(args)} -> {done.returncode}: {done.stdout}"
    assert done.stdout == ""
    return done


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def ready(server: ServerProcess, *filters: str) -> list[str]:
    return ids(js(server, "task", "ready", *filters))


# --- a plan with dependencies ---------------------------------------------------------


def test_ready_tasks_follow_completion_and_approval(server: ServerProcess) -> None:
    initiative = js(server, "initiative", "create", "Auth", "--no-merge-requires-approval")
    iid = initiative["id"]
    design = js(server, "phase", "create", "--initiative", iid, "Design")
    build = js(server, "phase", "create", "--initiative", iid, "Build")
    assert "now depends on phase" in ok(server, "phase", "dep", "add", build["id"], design["id"])

    schema = js(server, "task", "create", "--phase", design["id"], "Schema")
    api = js(server, "task", "create", "--phase", build["id"], "API", "--priority", "high")
    ui = js(server, "task", "create", "--phase", build["id"], "UI")
    review = js(
        server, "task", "create", "--phase", build["id"], "Security review", "--requires-approval"
    )
    # approval gates the merge of finished work, not the start
    assert (schema["status"], review["status"]) == ("pending", "pending")
    ok(server, "task", "dep", "add", api["id"], schema["id"])
    ok(server, "task", "dep", "add", ui["id"], api["id"])
    ok(server, "task", "dep", "add", review["id"], api["id"])

    assert ready(server) == [schema["id"]]
    human = ok(server, "task", "ready", "--initiative", iid)
    names = [line.split()[1] for line in human.splitlines()[1:] if line.strip()]
    assert names == ["Schema"]  # by column: a random id may contain "UI"

    assert "is now completed" in ok(server, "task", "done", schema["id"])
    assert ready(server) == [api["id"]]  # the Design phase is completed with its task

    ok(server, "task", "start", api["id"])
    assert ready(server) == []
    ok(server, "task", "done", api["id"])
    assert ready(server) == [ui["id"], review["id"]]

    # a task held explicitly (e.g. from a proposal) waits for approval before it starts
    held = js(
        server, "task", "create", "--phase", build["id"], "Held", "--status", "pending_approval"
    )
    assert ids(js(server, "task", "pending-approval")) == [held["id"]]
    assert "Held" in ok(server, "task", "pending-approval", "--initiative", iid)
    approved = ok(server, "task", "approve", held["id"])
    assert f"approved task 'Held' ({held['id']}): now pending" in approved
    assert ready(server, "--phase", build["id"]) == [ui["id"], review["id"], held["id"]]
    assert "no task waits for approval" in ok(server, "task", "pending-approval")
    again = refused(server, "task", "approve", held["id"])
    assert "is pending, not pending_approval" in again.stderr


def test_a_dependency_cycle_is_refused_naming_the_cycle(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    a, b, c = (js(server, "task", "create", "--initiative", iid, name) for name in "abc")
    ok(server, "task", "dep", "add", b["id"], a["id"])
    ok(server, "task", "dep", "add", c["id"], b["id"])

    done = refused(server, "task", "dep", "add", a["id"], c["id"])

    assert done.stderr.startswith(
        f"error: task 'a' ({a['id']}) cannot depend on task 'c' ({c['id']}): "
        "that would close the cycle 'a' -> 'c' -> 'b' -> 'a'"
    )
    listing = js(server, "task", "dep", "list", a["id"])
    assert listing["dependencies"] == []
    assert ids(listing["dependents"]) == [b["id"]]

    p1 = js(server, "phase", "create", "--initiative", iid, "one")
    p2 = js(server, "phase", "create", "--initiative", iid, "two")
    ok(server, "phase", "dep", "add", p2["id"], p1["id"])
    phases = refused(server, "phase", "dep", "add", p1["id"], p2["id"])
    assert "that would close the cycle 'one' -> 'two' -> 'one'" in phases.stderr
    selfish = refused(server, "task", "dep", "add", a["id"], a["id"])
    assert "cannot depend on itself" in selfish.stderr


def test_dependencies_are_listed_and_removed(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    first = js(server, "phase", "create", "--initiative", iid, "First")
    second = js(server, "phase", "create", "--initiative", iid, "Second")
    ok(server, "phase", "dep", "add", second["id"], first["id"])

    listed = ok(server, "phase", "dep", "list", second["id"])
    assert f"phase {second['id']} depends on:" in listed
    assert "First" in listed
    assert ids(js(server, "phase", "dep", "list", first["id"])["dependents"]) == [second["id"]]

    assert "no longer depends on" in ok(server, "phase", "dep", "rm", second["id"], first["id"])
    assert js(server, "phase", "dep", "list", second["id"])["dependencies"] == []
    gone = refused(server, "phase", "dep", "rm", second["id"], first["id"])
    assert "does not depend on" in gone.stderr


def test_deleting_a_phase_reports_the_tasks_it_took_along(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    phase = js(server, "phase", "create", "--initiative", iid, "Backend")
    parent = js(server, "task", "create", "--phase", phase["id"], "Endpoints")
    js(server, "task", "create", "--parent", parent["id"], "Login endpoint")
    js(server, "task", "create", "--phase", phase["id"], "Tests")

    line = ok(server, "phase", "delete", phase["id"])

    assert line.startswith(f"deleted phase {phase['id']} (Backend)")
    assert re.search(r"\b3 tasks\b", line)
    assert js(server, "task", "list", "--initiative", iid)["items"] == []
    missing = refused(server, "phase", "show", phase["id"])
    assert f"no phase has the id or the name '{phase['id']}'" in missing.stderr


# --- every entity's round trip ----------------------------------------------------------


def test_initiative_round_trip(server: ServerProcess) -> None:
    created = js(server, "initiative", "create", "User Auth")
    iid = created["id"]
    assert (created["branch"], created["mergeRequiresApproval"]) == ("cw/user-auth", True)
    assert "created initiative 'Docs'" in ok(server, "initiative", "create", "Docs")

    listed = ok(server, "initiative", "list")
    assert "User Auth" in listed
    assert "cw/user-auth" in listed
    assert [i["name"] for i in js(server, "initiative", "list")["items"]] == ["User Auth", "Docs"]
    shown = ok(server, "initiative", "show", iid)
    assert "branch:" in shown
    assert "cw/user-auth" in shown
    assert js(server, "initiative", "show", iid) == created

    updated = ok(server, "initiative", "update", iid, "--status", "completed", "--branch", "")
    assert updated.startswith(f"updated initiative 'User Auth' ({iid}): branch, status")
    after = js(server, "initiative", "show", iid)
    assert (after["status"], after["branch"]) == ("completed", None)
    assert ids(js(server, "initiative", "list", "--status", "completed")["items"]) == [iid]

    deleted = js(server, "initiative", "delete", iid)
    assert (deleted["id"], deleted["removed"]["tasks"]) == (iid, 0)
    refused(server, "initiative", "show", iid)


def test_phase_round_trip_with_content(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    created = js(
        server,
        "phase",
        "create",
        "--initiative",
        iid,
        "Design",
        "--content-file",
        "-",
        input="Use argon2id.\nRotate keys yearly.\n",
    )
    pid = created["id"]
    assert created["content"]["type"] == "doc"

    assert "Design" in ok(server, "phase", "list", "--initiative", iid)
    shown = ok(server, "phase", "show", pid)
    assert "Use argon2id." in shown
    assert "Rotate keys yearly." in shown

    ok(server, "phase", "update", pid, "--status", "in_progress", "--name", "Design v2")
    after = js(server, "phase", "show", pid)
    assert (after["name"], after["status"]) == ("Design v2", "in_progress")
    assert ids(js(server, "phase", "list", "--status", "in_progress")["items"]) == [pid]
    assert js(server, "phase", "update", pid, "--content", "")["content"] is None

    assert ok(server, "phase", "delete", pid).startswith(f"deleted phase {pid} (Design v2)")
    assert js(server, "phase", "list", "--initiative", iid)["items"] == []


def test_task_round_trip(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    phase = js(server, "phase", "create", "--initiative", iid, "Backend")
    created = js(
        server,
        "task",
        "create",
        "--phase",
        phase["id"],
        "Login form",
        "--priority",
        "high",
        "--category",
        "research",
        "--description",
        "email + password",
    )
    tid = created["id"]
    assert (created["initiativeId"], created["priority"], created["category"]) == (
        iid,
        "high",
        "research",
    )
    assert (created["status"], created["requiresApprovalEffective"]) == ("pending", True)
    human = ok(server, "task", "create", "--phase", phase["id"], "Logout", "--no-requires-approval")
    assert "created task 'Logout'" in human
    assert human.rstrip().endswith(": pending")

    listed = ok(server, "task", "list", "--phase", phase["id"])
    assert "Login form" in listed
    assert "pending_approval" not in listed
    shown = ok(server, "task", "show", tid)
    assert "required (initiative default)" in shown
    assert "email + password" in shown

    sub = js(server, "task", "create", "--parent", tid, "Validate emails", "--status", "pending")
    assert ids(js(server, "task", "subtasks", tid)) == [sub["id"]]
    assert "Validate emails" in ok(server, "task", "subtasks", tid)

    line = ok(
        server, "task", "update", tid, "--priority", "low", "--order", "2", "--description", ""
    )
    assert line.startswith(f"updated task 'Login form' ({tid}): description, order, priority")
    after = js(server, "task", "show", tid)
    assert (after["priority"], after["order"], after["description"]) == ("low", 2, None)

    deleted = ok(server, "task", "delete", tid)
    assert deleted.startswith(f"deleted task {tid} (Login form); with it:")
    assert re.search(r"\b1 tasks?\b", deleted)  # the subtask
    remaining = js(server, "task", "list", "--phase", phase["id"])["items"]
    assert [t["name"] for t in remaining] == ["Logout"]
    refused(server, "task", "show", sub["id"])


def test_project_round_trip_and_links(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    web = js(server, "project", "create", "web", "git@example.com:web.git")
    api = js(
        server, "project", "create", "api", "https://example.com/api", "--default-branch", "trunk"
    )
    assert (web["url"], web["defaultBranch"], api["defaultBranch"]) == (
        "git@example.com:web.git",
        "main",
        "trunk",
    )
    taken = refused(server, "project", "create", "web", "elsewhere")
    assert "name 'web'" in taken.stderr

    listed = ok(server, "project", "list")
    assert "git@example.com:web.git" in listed
    assert "trunk" in listed
    assert "default branch: main" in " ".join(ok(server, "project", "show", web["id"]).split())

    linked = js(server, "project", "link", iid, web["id"], api["id"])
    assert linked == {"added": ids([web, api]), "removed": [], "projectIds": ids([web, api])}
    relinked = ok(server, "project", "link", iid, api["id"])
    assert f"unlinked: {web['id']}" in relinked
    assert ids(js(server, "project", "list", "--initiative", iid)) == [api["id"]]
    assert "unlinked" in ok(server, "project", "unlink", iid, api["id"])
    assert "uses no projects" in ok(server, "project", "list", "--initiative", iid)

    ok(server, "project", "update", web["id"], "--git-url", "https://example.com/web")
    assert js(server, "project", "show", web["id"])["url"] == "https://example.com/web"
    ok(server, "project", "link", iid, web["id"])
    deleted = js(server, "project", "delete", web["id"])
    assert deleted["removed"] == {"initiativeProjects": 1}
    assert ids(js(server, "project", "list")["items"]) == [api["id"]]


def test_page_round_trip_and_tree(server: ServerProcess) -> None:
    iid = js(server, "initiative", "create", "Auth")["id"]
    assert "has no pages yet" in ok(server, "page", "tree", iid)

    notes = js(server, "page", "create", "--initiative", iid, "Notes", "--content", "hello\nworld")
    root = js(server, "page", "root", iid)
    assert (notes["parentPageId"], root["title"]) == (root["id"], "Auth")
    tiptap = {
        "type": "doc",
        "content": [
            {
                "type": "heading",
                "attrs": {"level": 2},
                "content": [{"type": "text", "text": "Decision"}],
            }
        ],
    }
    decisions = js(
        server,
        "page",
        "create",
        "--initiative",
        iid,
        "--parent",
        notes["id"],
        "Decisions",
        "--content-file",
        "-",
        input=json.dumps(tiptap),
    )
    assert decisions["content"] == tiptap

    assert ok(server, "page", "tree", iid).splitlines() == [
        f"Auth  ({root['id']})",
        f"└── Notes  ({notes['id']})",
        f"    └── Decisions  ({decisions['id']})",
    ]
    tree = js(server, "page", "tree", iid)
    assert tree["children"][0]["children"][0]["id"] == decisions["id"]
    assert "## Decision" in ok(server, "page", "show", decisions["id"])
    assert "Notes" in ok(server, "page", "list", "--initiative", iid)

    ok(server, "page", "update", decisions["id"], "--parent", root["id"], "--title", "Choices")
    moved = js(server, "page", "show", decisions["id"])
    assert (moved["parentPageId"], moved["title"]) == (root["id"], "Choices")
    cycle = refused(server, "page", "update", notes["id"], "--parent", notes["id"])
    assert "its own ancestor" in cycle.stderr

    ok(server, "page", "update", decisions["id"], "--parent", notes["id"])
    deleted = ok(server, "page", "delete", notes["id"])
    assert deleted.startswith(f"deleted page {notes['id']} (Notes); with it:")
    assert re.search(r"\b1 pages?\b", deleted)
    assert ids(js(server, "page", "list", "--initiative", iid)["items"]) == [root["id"]]
