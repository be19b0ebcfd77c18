"""Playwright driving Debian's Chromium against pytest-django's live server.

Loaded once for the whole suite as a plugin (``pytest_plugins`` in tests/conftest.py), so that every test —
browser tests and the security tests that use Chromium alike — shares one session browser: a second
``sync_playwright()`` in the same process would clash with the first.

Screenshots for the README are written to docs/screenshots/ by the tests that show something worth seeing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}

# Playwright's sync API runs an event loop in this thread; the tests still talk to the ORM synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _retry_deadlocked_flushes() -> None:
    from django.test import TransactionTestCase

    from tests.browser.inflight import flush_retrying_deadlocks

    TransactionTestCase._fixture_teardown = flush_retrying_deadlocks(  # type: ignore[method-assign]
        TransactionTestCase._fixture_teardown
    )


_retry_deadlocked_flushes()


@pytest.fixture(autouse=True)
def _requests_answered_before_the_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    """Autouse, so set up after pytest-django's database fixture and before the test's browsers: torn down after
    the browsers are closed and before the tables are truncated."""
    yield
    if "live_server" in request.fixturenames:
        from tests.browser.inflight import wait_until_idle

        wait_until_idle()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: run `make test` (it installs Debian's chromium) or set CHROMIUM_PATH"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def _context(
    browser: Browser, viewport: dict[str, int], locale: str = "zh-CN", service_workers: str = "allow"
) -> BrowserContext:
    context = browser.new_context(
        viewport=viewport,
        locale=locale,
        device_scale_factor=1,
        service_workers=service_workers,  # type: ignore[arg-type]
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = _context(browser, PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_on_the_network(browser: Browser) -> Iterator[Page]:
    """A phone whose every request goes to the network: the enumerator's service worker (issue 19) would answer
    from its cache before Playwright's routes see the request, so tests of a slow network block it."""
    context = _context(browser, PHONE, service_workers="block")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = _context(browser, DESKTOP)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, live_server_url: str, username: str, password: str) -> None:
    page.goto(f"{live_server_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
