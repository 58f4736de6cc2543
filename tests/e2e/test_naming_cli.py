"""Initiatives, phases and tasks named as people name them, through the real `cw` and
the real server: by name, by the start of the id, or by the id; ambiguous names and
unknown ones explained; and an initiative without a project refused before it runs."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow


def ok(server: ServerProcess, *args: str) -> str:
    done = server.cw(*args)
    assert done.returncode == 0, f"cw {' '.join(args)} -> {done.returncode}: {done.stderr}"
    return done.stdout


def js(server: ServerProcess, *args: str) -> Any:
    return json.loads(ok(server, *args, "--json"))


def refused(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    done = server.cw(*args)
    assert done.returncode == 1, f"cw {' '.join(args)} -> {done.returncode}: {done.stdout}"
    assert "Traceback" not in done.stderr and done.stdout == ""
    return done


def test_a_plan_is_built_and_run_by_names_and_id_starts(server: ServerProcess) -> None:
    auth = js(server, "initiative", "create", "Auth rewrite")
    js(server, "initiative", "create", "Billing")
    build = js(server, "phase", "create", "--initiative", "Auth rewrite", "Build")
    ship = js(server, "phase", "create", "--initiative", auth["id"][:8], "Ship")
    assert build["initiativeId"] == ship["initiativeId"] == auth["id"]
    schema = js(server, "task", "create", "--phase", "Build", "Schema")
    login = js(server, "task", "create", "--phase", "Build", "Login API")

    assert js(server, "task", "show", "Login API")["id"] == login["id"]
    assert js(server, "task", "show", login["id"][:6])["id"] == login["id"]
    assert js(server, "initiative", "show", "Billing")["name"] == "Billing"
    added = ok(server, "task", "dep", "add", "Login API", "Schema")
    assert added.strip() == (
        f"task 'Login API' ({login['id']}) now depends on task 'Schema' ({schema['id']})"
    )
    ok(server, "phase", "dep", "add", "Ship", "Build")
    assert [t["id"] for t in js(server, "task", "list", "--phase", "Build")["items"]] == [
        schema["id"],
        login["id"],
    ]
    assert "Login API" in ok(server, "task", "update", "Login API", "--priority", "high")

    cycle = refused(server, "task", "dep", "add", "Schema", "Login API")
    assert (
        f"task 'Schema' ({schema['id']}) cannot depend on task 'Login API' ({login['id']}): "
        "that would close the cycle 'Schema' -> 'Login API' -> 'Schema'"
    ) in cycle.stderr

    # no project linked: refused before anything runs, saying how to link one
    no_project = refused(server, "initiative", "run", "Auth rewrite")
    assert f"initiative Auth rewrite ({auth['id']}) has no project to work in" in (
        no_project.stderr
    )
    assert f"cw project link {auth['id']} PROJECT_ID" in no_project.stderr
    assert js(server, "initiative", "show", "Auth rewrite")["dispatchStatus"] == "off"


def test_ambiguous_and_unknown_names_are_explained(server: ServerProcess) -> None:
    one = js(server, "initiative", "create", "Auth")
    two = js(server, "initiative", "create", "Billing")
    first = js(server, "task", "create", "--initiative", "Auth", "Docs")
    second = js(server, "task", "create", "--initiative", "Billing", "Docs")

    twice = refused(server, "task", "show", "Docs")
    assert (
        f"error: 'Docs' is ambiguous: 2 tasks are named it: 'Docs' ({first['id']}), "
        f"'Docs' ({second['id']}); give one's id (or enough of its start to tell it apart)"
    ) in twice.stderr
    assert js(server, "task", "show", second["id"])["initiativeId"] == two["id"]

    unknown = refused(server, "phase", "list", "--initiative", "Nope")
    assert (
        "no initiative has the id or the name 'Nope', nor an id starting with it; "
        "list them with: cw initiative list"
    ) in unknown.stderr
    assert js(server, "task", "list", "--initiative", one["id"])["items"][0]["id"] == first["id"]
