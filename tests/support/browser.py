"""A real headless Chromium (Debian's ``chromium``) driven by Playwright for Python.

Playwright launches the system browser at ``CHROMIUM`` (``playwright install``, which
downloads browsers, is never used) with a fresh user-data directory, so no profile,
cookie or cache leaks between runs. ``scripts/install-chromium`` (run by ``make
setup``) installs the browser as root; without it the browser tests skip saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import BrowserContext, Page, sync_playwright

from tests.support.server import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
MISSING = (
    f"{CHROMIUM} is not installed: run `make setup` as root, or "
    "`apt-get update && apt-get install -y chromium`"
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_available() -> bool:
    return CHROMIUM.is_file()


@contextmanager
def open_browser(
    user_data_dir: Path, *, width: int = 1280, height: int = 860, scale: float = 1
) -> Iterator[BrowserContext]:
    """A browser context in a fresh profile; the browser is closed on exit."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            timezone_id="UTC",
            locale="en-GB",
        )
        try:
            yield context
        finally:
            context.close()


def dashboard_url(server: ServerProcess, path: str = "/") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def sign_in(page: Page, server: ServerProcess) -> None:
    """Sign in through the form with the server's admin token."""
    page.goto(dashboard_url(server, "/signin"))
    page.get_by_label("Admin token").fill(server.admin_token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
