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


@pytest.fixture
def page(browser: BrowserContext) -> Page:
    return browser.pages[0] if browser.pages else browser.new_page()
