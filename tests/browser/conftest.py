"""The browser tier: a real `cw serve`, real `cw` processes and a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page
from tests.support.browser import MISSING, chromium_available, open_browser
from tests.support.server import ServerProcess


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(home=tmp_path / "home").start()
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    if not chromium_available():
        pytest.skip(MISSING)
    with open_browser(tmp_path / "chromium-profile") as context:
        context.set_default_timeout(10_000)
        yield context


#: Reports each Content-Security-Policy violation on the console, in every page and
#: frame, also those the browser itself would only count (an init script runs before
#: the page's own and is not subject to the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def page(browser: BrowserContext) -> Iterator[Page]:
    """The browser's page. A test whose pages broke the dashboard's Content-Security-
    Policy fails: something (a style, a script, htmx itself) did not run as written."""
    violations: list[str] = []
    browser.add_init_script(REPORT_VIOLATIONS)
    browser.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "CSP violation" in message.text or "Content Security Policy" in message.text
            else None
        ),
    )
    yield browser.pages[0] if browser.pages else browser.new_page()
    assert violations == [], "the dashboard's Content-Security-Policy refused something"
