"""The dashboard in a real headless Chromium against a real `cw serve` and real `cw`.

"Without a reload" is checked with a marker set on the page's ``window``: a reload
or navigation would drop it.
"""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.e2e.runner_kit import claude_hook
from tests.support.browser import dashboard_url, sign_in
from tests.support.server import ServerProcess

pytestmark = pytest.mark.slow

LIVE_TIMEOUT_MS = 5_000


def register(server: ServerProcess, name: str, tmp_path: Path, *flags: str) -> dict[str, Any]:
    """`cw agent register`, its exports parsed into ``{id, token, name}``."""
    done = server.cw(
        "agent", "register", "--name", name, "--worktree", str(tmp_path / name), *flags
    )
    assert done.returncode == 0, done.stderr
    exports = dict(line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines())
    return {"id": exports["CW_AGENT_ID"], "token": exports["CW_TOKEN"], "name": name}


def created_id(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr
    found: str = json.loads(done.stdout)["id"]
    return found


def mark_page(page: Page) -> None:
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded === true"), "the page was reloaded"


def wait_for_stream(page: Page) -> None:
    """Wait until the page's live stream is open (htmx's SSE extension connected)."""
    page.wait_for_function(
        "() => { const m = document.querySelector('main[sse-connect]');"
        " const s = m && m['htmx-internal-data'];"
        " return s && s.sseEventSource && s.sseEventSource.readyState === 1; }"
    )


def wait_for_pending_question(server: ServerProcess, agent: dict[str, Any]) -> str:
    """The id of the agent's open question to the person, once it is recorded."""
    for _ in range(300):
        shown = json.loads(server.cw("agent", "show", agent["name"], "--json").stdout)
        if shown.get("pendingQuestions"):
            message_id: str = shown["pendingQuestions"][0]["messageId"]
            return message_id
        threading.Event().wait(0.05)
    raise AssertionError(f"{agent['name']} never asked")


# --- signing in and out ------------------------------------------------------------------


def test_sign_in_with_the_admin_token_and_sign_out(server: ServerProcess, page: Page) -> None:
    page.goto(dashboard_url(server, "/inbox"))
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Finbox$"))
    page.get_by_label("Admin token").fill("cw_not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not the admin token")

    page.get_by_label("Admin token").fill(server.admin_token)
    page.keyboard.press("Enter")  # the form works from the keyboard
    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    [cookie] = [c for c in page.context.cookies() if c["name"] == "cw_session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert server.admin_token not in page.content()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    page.goto(dashboard_url(server, "/"))
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    # The old cookie no longer opens anything, even sent by hand.
    refused = page.request.get(
        dashboard_url(server, "/overview.json"),
        headers={"cookie": f"cw_session={cookie['value']}"},
    )
    assert refused.status == 401


def test_cw_dashboard_prints_a_link_that_signs_in_once(
    server: ServerProcess, browser: BrowserContext, page: Page
) -> None:
    done = server.cw("dashboard", "--json")
    assert done.returncode == 0, done.stderr
    link = json.loads(done.stdout)["url"]
    assert link.startswith(dashboard_url(server, "/signin/"))
    assert server.admin_token not in done.stdout

    page.goto(link)
    expect(page.get_by_role("heading", name="Initiatives")).to_be_visible()

    other = browser.new_page()
    browser.clear_cookies()
    other.goto(link)
    expect(other.get_by_role("alert")).to_contain_text("already used or has expired")
    other.close()

    human = server.cw("dashboard", "--no-open")
    assert human.returncode == 0, human.stderr
    assert f"dashboard: {dashboard_url(server)}" in human.stdout


def test_requests_without_the_session_cookie_are_refused(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    register(server, "quiet-otter", tmp_path)
    for path in [
        "/overview.json",
        "/agents.json",
        "/inbox.json",
        "/events",
        "/agents/quiet-otter.json",
    ]:
        response = page.request.get(dashboard_url(server, path), max_redirects=0)
        assert response.status == 401, path
        assert "quiet-otter" not in response.text()
    for path in ["/", "/agents", "/inbox", "/conversations", "/accounts", "/agents/quiet-otter"]:
        response = page.request.get(dashboard_url(server, path), max_redirects=0)
        assert response.status == 303, path
        assert response.headers["location"].startswith("/signin?next=")
    posted = page.request.post(
        dashboard_url(server, "/inbox/x/reply"),
        form={"content": "hi"},
        headers={"origin": dashboard_url(server).rstrip("/")},
    )
    assert posted.status == 401


# --- the inbox -----------------------------------------------------------------------


def test_a_question_appears_in_the_inbox_and_the_reply_wakes_cw_ask(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    sign_in(page, server)
    page.goto(dashboard_url(server, "/inbox"))
    wait_for_stream(page)
    mark_page(page)
    agent = register(server, "brave-otter", tmp_path)
    asking = server.spawn_cw("ask", "--user", "May I drop the legacy sessions table?", agent=agent)

    card = page.locator(".question-card", has_text="May I drop the legacy sessions table?")
    expect(card).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(card).to_contain_text("brave-otter")
    expect(page.locator("#inbox-badge")).to_have_text("1")  # the header's count, live too
    assert_not_reloaded(page)
    assert asking.poll() is None  # still waiting for the person

    card.get_by_label("Reply to brave-otter").fill("Yes, after the backup at 18:00.")
    card.get_by_role("button", name="Send reply").click()

    out, err = asking.communicate(timeout=30)
    assert asking.returncode == 0, err
    assert out.strip() == "Yes, after the backup at 18:00."
    expect(page.get_by_text("Nothing is waiting for you.")).to_be_visible()
    shown = json.loads(server.cw("agent", "show", "brave-otter", "--json").stdout)
    assert shown["status"] == "running"
    assert not shown.get("pendingQuestions")


def test_a_question_holding_a_script_is_shown_as_text(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    sign_in(page, server)
    agent = register(server, "sly-fox", tmp_path)
    payload = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    asking = server.spawn_cw("ask", "--user", payload, agent=agent)
    wait_for_pending_question(server, agent)

    for path in ["/inbox", "/agents/sly-fox"]:
        page.goto(dashboard_url(server, path))
        expect(page.get_by_text(payload).first).to_be_visible()
        assert page.evaluate("window.__pwned === undefined"), path
        assert page.locator("#live script, #live img").count() == 0, path
    asking.kill()
    asking.communicate(timeout=10)


# --- live pages ----------------------------------------------------------------------


def test_a_conversation_asked_from_cw_appears_without_a_reload(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    asker = register(server, "swift-heron", tmp_path)
    answerer = register(server, "calm-badger", tmp_path)
    sign_in(page, server)
    page.goto(dashboard_url(server, "/conversations"))
    wait_for_stream(page)
    mark_page(page)

    asking = server.spawn_cw(
        "ask", "--agent", "calm-badger", "Is the schema migrated to 0002?", agent=asker
    )
    row = page.locator(".conversation", has_text="Is the schema migrated to 0002?")
    expect(row).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(row).to_contain_text("swift-heron")
    expect(row).to_contain_text("calm-badger")
    expect(row.locator(".status")).to_have_text("pending")

    pending = server.call("query", "conversation.pending", {"agentId": answerer["id"]})
    answered = server.cw("answer", pending[0]["id"], "Yes, head is 0002.", agent=answerer)
    assert answered.returncode == 0, answered.stderr
    expect(row.locator(".answer")).to_have_text("Yes, head is 0002.", timeout=LIVE_TIMEOUT_MS)
    expect(row.locator(".status")).to_have_text("answered")
    _out, err = asking.communicate(timeout=30)
    assert asking.returncode == 0, err
    assert_not_reloaded(page)

    page.goto(dashboard_url(server, "/conversations?status=pending"))
    expect(page.get_by_text("No conversations yet.")).to_be_visible()


def append_log(server: ServerProcess, agent: str, session: int, *texts: str) -> None:
    chunk = "".join(text + "\n" for text in texts)
    done = server.cw("logs", "append", agent, "-", "--session", str(session), input=chunk)
    assert done.returncode == 0, done.stderr


def log_position(page: Page) -> dict[str, float]:
    position: dict[str, float] = page.locator("#agent-log").evaluate(
        "node => ({top: node.scrollTop, height: node.scrollHeight, view: node.clientHeight})"
    )
    return position


def at_end(position: dict[str, float]) -> bool:
    return position["height"] - position["top"] - position["view"] < 2


def test_the_log_follows_its_newest_entry_with_a_divider_per_session(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    register(server, "chatty-wren", tmp_path)
    append_log(server, "chatty-wren", 1, *(f"first run line {n}" for n in range(40)))
    append_log(server, "chatty-wren", 2, *(f"second run line {n}" for n in range(40)))
    sign_in(page, server)
    page.goto(dashboard_url(server, "/agents/chatty-wren"))
    wait_for_stream(page)
    mark_page(page)

    log = page.locator("#agent-log")
    expect(log.get_by_role("separator")).to_have_text(["Session 1", "Session 2"])
    opened = log_position(page)
    assert opened["height"] > opened["view"]  # the log scrolls in its own box...
    assert at_end(opened)  # ...opened at its newest entry

    append_log(server, "chatty-wren", 3, "third run begins")
    expect(log.get_by_role("separator")).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
    expect(log.locator("li").last).to_have_text("third run begins")
    page.wait_for_function(
        "() => { const n = document.querySelector('#agent-log');"
        " return n.scrollHeight - n.scrollTop - n.clientHeight < 2; }"
    )  # it followed the new entry

    log.evaluate("node => { node.scrollTop = 0; }")  # the reader scrolls up to read
    append_log(server, "chatty-wren", 3, "third run goes on")
    expect(log.locator("li").last).to_have_text("third run goes on", timeout=LIVE_TIMEOUT_MS)
    assert log_position(page)["top"] == 0  # their place is kept
    assert_not_reloaded(page)


def run_hook(server: ServerProcess, agent: dict[str, Any], worktree: Path, event: str) -> str:
    """The real `cw hook claude EVENT` in a fresh git worktree of the agent's."""
    worktree.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(worktree)], check=True, timeout=30)
    return claude_hook(server, agent, worktree, event)


def test_the_message_box_tells_the_agent_and_shows_when_it_was_handed_over(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    bob = register(server, "quiet-owl", tmp_path)
    sign_in(page, server)
    page.goto(dashboard_url(server, "/agents/quiet-owl"))
    wait_for_stream(page)
    expect(page.get_by_text("crosswalk does not run quiet-owl")).to_be_visible()

    box = page.get_by_label("Message to quiet-owl")
    box.fill("Half-typed, kept through a refresh")
    append_log(server, "quiet-owl", 1, "something happened")  # a live refresh
    expect(page.locator("#agent-log")).to_contain_text("something happened")
    expect(box).to_have_value("Half-typed, kept through a refresh")

    box.fill("Please rebase on main before you go on.")
    page.get_by_role("button", name="Send to quiet-owl").click()
    expect(page).to_have_url(re.compile(f"/agents/{bob['id']}$"))
    wait_for_stream(page)
    mark_page(page)
    told = page.locator(".message.from-you", has_text="Please rebase on main before you go on.")
    expect(told).to_contain_text("not read yet: waits for its next hook")

    out = run_hook(server, bob, tmp_path / "quiet-owl", "PostToolUse")
    assert "Please rebase on main before you go on." in out
    expect(told).to_contain_text("handed over", timeout=LIVE_TIMEOUT_MS)
    assert_not_reloaded(page)
    # Nothing inline for a strict Content-Security-Policy: scripts from files, no styles.
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("[style]").count() == 0


def test_a_task_changes_state_on_the_initiative_graph(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    initiative = created_id(server.cw("initiative", "create", "Auth rewrite", "--json"))
    phase = created_id(
        server.cw("phase", "create", "--initiative", initiative, "Backend", "--json")
    )
    # held explicitly (as from a proposal): approving a task that never ran lets it start
    first = created_id(
        server.cw(
            "task",
            "create",
            "--phase",
            phase,
            "Token service",
            "--status",
            "pending_approval",
            "--json",
        )
    )
    second = created_id(server.cw("task", "create", "--phase", phase, "Login API", "--json"))
    assert server.cw("task", "dep", "add", second, first).returncode == 0
    sign_in(page, server)
    page.goto(dashboard_url(server, f"/initiatives/{initiative}"))
    wait_for_stream(page)
    mark_page(page)

    node = page.locator(f"#node-{first}")
    expect(node).to_have_attribute("data-status", "pending_approval")
    # left to right by dependency: the dependent task is drawn in a later column
    first_box = node.bounding_box()
    second_box = page.locator(f"#node-{second}").bounding_box()
    assert first_box is not None and second_box is not None
    assert second_box["x"] > first_box["x"] + first_box["width"]
    expect(page.locator(f'.edge[data-from="{first}"][data-to="{second}"]')).to_have_count(1)

    # the page's own Approve button, then cw moving the task on
    page.locator(f"#task-{first}").get_by_role("button", name="Approve").click()
    expect(page.locator(f"#node-{first}")).to_have_attribute("data-status", "pending")
    wait_for_stream(page)
    mark_page(page)
    assert server.cw("task", "start", first).returncode == 0
    expect(page.locator(f"#node-{first}")).to_have_attribute(
        "data-status", "in_progress", timeout=LIVE_TIMEOUT_MS
    )
    assert server.cw("task", "done", first).returncode == 0
    expect(page.locator(f"#node-{first}")).to_have_attribute(
        "data-status", "completed", timeout=LIVE_TIMEOUT_MS
    )
    assert_not_reloaded(page)

    # the overview's progress bar: a share per state, drawn without a style attribute
    page.goto(dashboard_url(server, "/"))
    expect(page.locator("svg.progress rect.bar")).to_have_count(2)
    whole = page.locator("svg.progress").bounding_box()
    done = page.locator("svg.progress rect.s-completed").bounding_box()
    assert whole is not None and done is not None
    assert abs(done["width"] - whole["width"] / 2) < 2


def test_the_live_stream_reconnects_after_a_restart_and_catches_up(
    server: ServerProcess, page: Page, tmp_path: Path
) -> None:
    asker = register(server, "steady-owl", tmp_path)
    register(server, "keen-lynx", tmp_path)
    sign_in(page, server)
    page.goto(dashboard_url(server, "/conversations"))
    wait_for_stream(page)
    mark_page(page)

    server.stop()
    server.start()  # same port, same data directory: the session survives
    done = server.cw("ask", "--agent", "keen-lynx", "Who owns the cache?", "--no-wait", agent=asker)
    assert done.returncode == 0, done.stderr
    expect(page.locator(".conversation", has_text="Who owns the cache?")).to_be_visible(
        timeout=15_000
    )
    assert_not_reloaded(page)


# --- cross-site requests -------------------------------------------------------------


class _EvilSite(http.server.BaseHTTPRequestHandler):
    form = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(self.form)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def evil_site() -> Iterator[tuple[str, type[_EvilSite]]]:
    handler = type("Evil", (_EvilSite,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}/", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_a_cross_site_form_post_is_refused(
    server: ServerProcess,
    page: Page,
    tmp_path: Path,
    evil_site: tuple[str, type[_EvilSite]],
) -> None:
    agent = register(server, "wary-crane", tmp_path)
    asking = server.spawn_cw("ask", "--user", "Ship it?", agent=agent)
    message_id = wait_for_pending_question(server, agent)
    sign_in(page, server)

    # Another site (another origin) posts a reply form to the dashboard from the
    # signed-in browser: the strict cookie is not sent, and the post is refused.
    evil_url, handler = evil_site
    target = dashboard_url(server, f"/inbox/{message_id}/reply")
    handler.form = (
        f'<form id="f" method="post" action="{target}">'
        '<input name="content" value="yes, ship it"><input name="csrf" value="guess"></form>'
        "<script>document.getElementById('f').submit()</script>"
    ).encode()
    with page.expect_response(target) as posted:
        page.goto(evil_url)
    assert posted.value.status in (401, 403)

    # Even with the session cookie, a post from another origin is refused...
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == "cw_session")
    forged = urllib.request.Request(
        target,
        data=b"content=yes&csrf=guess",
        headers={"cookie": f"cw_session={cookie}", "origin": evil_url.rstrip("/")},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)
    refused.value.close()
    assert refused.value.code == 403
    # ...and so is one from this origin without the form's token.
    same_origin = urllib.request.Request(
        target,
        data=b"content=yes&csrf=guess",
        headers={"cookie": f"cw_session={cookie}", "origin": dashboard_url(server).rstrip("/")},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(same_origin, timeout=10)
    refused.value.close()
    assert refused.value.code == 403

    inbox = json.loads(server.cw("inbox", "--json").stdout)
    assert [m["id"] for m in inbox] == [message_id]  # nothing was replied
    assert asking.poll() is None
    asking.kill()
    asking.communicate(timeout=10)
