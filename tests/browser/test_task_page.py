"""The task page in a real headless Chromium: a real server runs the fake `claude` in a real
git worktree; the person opens the task from the initiative page, reads its coloured diff,
requests changes with a comment, sees the task wait again without a reload, reloads the
diff and approves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from tests.agents.kit import FakeAgents
from tests.e2e.runner_kit import git, js, make_origin, ok, runner_server, stop_leftovers, until
from tests.support.browser import dashboard_url, sign_in
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

LIVE_TIMEOUT_MS = 20_000
LONG = "".join(f"line {n}\n" for n in range(300))


@pytest.fixture
def server(tmp_path: Path, fake_agents: FakeAgents) -> Iterator[ServerProcess]:
    for process in runner_server(tmp_path, fake_agents):
        try:
            yield process
        finally:
            stop_leftovers(process)


def work_waiting_for_approval(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents
) -> tuple[dict[str, Any], dict[str, Any]]:
    seed = make_origin(tmp_path / "seed")
    origin = tmp_path / "api.git"
    git("clone", "--quiet", "--bare", str(seed), str(origin), cwd=tmp_path)
    fake_agents.script(
        "default",  # the resume's prompt (the person's comment) names no script
        [
            {"kind": "write", "path": "README.md", "content": "the project\nnow with login\n"},
            {"kind": "write", "path": "generated.txt", "content": LONG},
            {"kind": "result", "text": "done", "usage": {"total_cost_usd": 1.25}},
        ],
        [
            {"kind": "write", "path": "README.md", "content": "the project\nlogin, checked\n"},
            {"kind": "result", "text": "checked"},
        ],
    )
    initiative = js(server, "initiative", "create", "Login")
    project = js(server, "project", "create", "api", str(origin))
    ok(server, "project", "link", initiative["id"], project["id"])
    task = js(server, "task", "create", "--initiative", initiative["id"], "Login form")
    ok(server, "initiative", "run", initiative["id"])
    until(
        lambda: js(server, "task", "show", task["id"])["status"] == "pending_approval",
        "the work to wait for approval",
    )
    return initiative, task


def test_review_a_diff_request_changes_and_approve(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents, page: Page
) -> None:
    initiative, task = work_waiting_for_approval(server, tmp_path, fake_agents)
    sign_in(page, server)
    page.goto(dashboard_url(server, f"/initiatives/{initiative['id']}"))
    expect(page.locator(f'.graph a[href="/tasks/{task["id"]}"]')).to_have_count(1)  # its node
    page.get_by_role("link", name="Login form", exact=True).click()
    expect(page).to_have_url(re.compile(f"/tasks/{task['id']}$"))
    expect(page.get_by_role("heading", name="Login form")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("$1.25")

    # the changed files, additions green and deletions red, the long file collapsed
    files = page.locator("ul.files")
    expect(files).to_contain_text("README.md")
    expect(files).to_contain_text("generated.txt")
    readme = page.locator("details.file", has_text="README.md")
    long_file = page.locator("details.file", has_text="generated.txt")
    expect(readme).to_have_attribute("open", "")
    assert long_file.get_attribute("open") is None
    expect(long_file.locator("summary")).to_contain_text("300 lines changed, collapsed")
    added = readme.locator(".d-add", has_text="+now with login")
    removed = readme.locator(".d-del", has_text="-the project")
    expect(added).to_be_visible()
    assert added.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(230, 255, 236)"
    assert removed.count() == 0  # README's first line stayed: context, not a deletion
    long_file.locator("summary").click()
    expect(long_file.locator(".d-add", has_text="+line 299")).to_be_visible()
    # nothing inline for a strict Content-Security-Policy
    assert page.locator("[style]").count() == 0
    assert page.locator("script:not([src])").count() == 0

    # send it back with a comment; it waits again without a reload
    page.get_by_label(re.compile("Request changes")).fill("Say that the login is checked")
    page.get_by_role("button", name="Request changes").click()
    expect(page).to_have_url(re.compile(f"/tasks/{task['id']}$"))
    expect(page.locator(".comments")).to_contain_text("Say that the login is checked")
    page.evaluate("window.__notReloaded = true")
    expect(page.get_by_role("button", name="Approve")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    calls = fake_agents.calls("claude")
    assert "Say that the login is checked" in " ".join(calls[-1]["argv"])

    page.get_by_role("link", name="reload").click()
    expect(readme.locator(".d-add", has_text="+login, checked")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1 .status")).to_have_text("completed")
    expect(page.locator(".changes")).to_contain_text("as merged")


def test_the_inbox_links_to_work_waiting_for_approval(
    server: ServerProcess, tmp_path: Path, fake_agents: FakeAgents, page: Page
) -> None:
    _, task = work_waiting_for_approval(server, tmp_path, fake_agents)
    sign_in(page, server)
    page.goto(dashboard_url(server, "/inbox"))
    page.get_by_role("link", name="Login form").click()
    expect(page).to_have_url(re.compile(f"/tasks/{task['id']}#changes$"))
    expect(page.locator("ul.files")).to_contain_text("generated.txt")
