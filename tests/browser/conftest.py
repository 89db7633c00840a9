"""Browser tests: Playwright driving Debian's chromium against the console and the portal of the local stack.

`make chromium` installs the browser where it is missing; Playwright never downloads one. The stack is the
session's (tests/conftest.py): the pages are served by its web server, which proxies the API on one origin.
"""
from __future__ import annotations

import collections
import os
import shutil
import time

import pytest

CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("chromium is not installed: run `make chromium` (Debian's package; Playwright drives it)")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies, no storage) per test, Italian locale, a laptop-sized window."""
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    calls = _api_calls(opened)
    yield opened
    context.close()
    # shown only when the test failed (pytest prints a failed test's captured output): what the page asked, when
    print("the page's last API calls (time, method, path, status or failure, ms):", *calls, sep="\n  ")


def _api_calls(page, keep: int = 80) -> collections.deque:
    calls: collections.deque = collections.deque(maxlen=keep)

    def finished(request, failure=None):
        if "/api/" not in request.url and "/public/" not in request.url:
            return
        timing = request.timing
        ms = round(timing["responseEnd"]) if timing.get("responseEnd", -1) >= 0 else "?"
        if failure is None:
            response = request.response()
            failure = response.status if response else "?"
        calls.append(f"{time.strftime('%H:%M:%S')} {request.method} {request.url.split('//', 1)[-1][:90]} {failure} {ms}")

    page.on("requestfinished", finished)
    page.on("requestfailed", lambda request: finished(request, f"failed: {request.failure}"))
    return calls
