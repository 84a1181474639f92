"""Browser fixtures: Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


# Module scope: Playwright's sync API keeps an event loop running while it is open,
# which would stop asyncio tests collected after it from running.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (browser tests do not skip)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


# A 401/403 page a test asked for on purpose is logged as a failed resource load.
EXPECTED_LOG = re.compile(r"Failed to load resource")
# A refusal (409/403) a test provokes on purpose is logged by htmx.
REFUSED_LOG = re.compile(r"Failed to load resource|Response Status Error Code (403|409) from |htmx:sendError|"
                         r"htmx:afterRequest|net::ERR_FAILED")


def _watched_tab(browser, allowed: re.Pattern):
    """A fresh browser tab that must log no htmx error (a push for an element the page
    does not have, a swap that failed) and no script error, but what `allowed` matches."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "htmx:" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    context.close()
    assert [p for p in problems if not allowed.search(p)] == []


@pytest.fixture
def page(browser):
    yield from _watched_tab(browser, EXPECTED_LOG)


@pytest.fixture
def refusing_page(browser):
    """As `page`, but a refusal the test provokes on purpose may be logged by htmx."""
    yield from _watched_tab(browser, REFUSED_LOG)
