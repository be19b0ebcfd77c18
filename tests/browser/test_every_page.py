"""Every page of every role in Chromium at 360 and 1366 px (issue 21, item 12): axe-core finds no critical or
serious violation; on a phone no page of the enumerator's or the supervisor's is wider than the screen, and each of
their controls is at least 44 × 44 px.

Each role starts on its start page and follows the links it is shown — the menu and what the pages link to, a page
of each kind (a URL name) — in the demo district, the household form and its read-back and signing page included."""

from __future__ import annotations

import io
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import Resolver404, resolve
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from supervision.progress.services import progress_refresh
from tests.browser.fixtures import DESKTOP, PHONE, log_in
from tests.browser.pages import axe_serious, overflow_x, small_targets

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
FIELD_ROLES = {"enumerator", "supervisor"}
SKIP_PREFIXES = ("/api/", "/static/", "/admin/", "/i18n/", "/accounts/")
MAX_PAGES = 40


@pytest.fixture
def demo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    call_command(
        "seed_district", persons=600, seed=5, plant_errors=str(tmp_path / "manifest.json"), stdout=io.StringIO()
    )
    for command in getattr(settings, "CENSUS_DEMO_EXTRA_COMMANDS", []):
        call_command(command, if_empty=True, stdout=io.StringIO())
    call_command("run_checks", full=True, workers=1, stdout=io.StringIO())
    progress_refresh()


def _name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


def walk(page: Page, base: str, *, phone: bool) -> tuple[list[str], list[str]]:
    """(pages visited, problems) — following links from the start page, one page per URL name."""
    page.goto(f"{base}/")
    queue = [page.url.split("#")[0]]
    seen_names: set[str | None] = {_name(urlsplit(page.url).path)}
    visited: list[str] = []
    problems: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        if page.url != url:
            try:
                page.goto(url)
            except PlaywrightError as error:
                if "Download is starting" in str(error):
                    continue  # a file (an export, an evidence file), not a page
                raise
        page.wait_for_load_state("networkidle")
        where = urlsplit(page.url).path + (f"?{urlsplit(page.url).query}" if urlsplit(page.url).query else "")
        visited.append(where)
        problems += [f"{where}: {violation}" for violation in axe_serious(page)]
        if phone:
            extra = overflow_x(page)
            if extra > 0:
                problems.append(f"{where}: {extra}px wider than the screen")
            problems += [f"{where}: small target {target}" for target in small_targets(page)]
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urljoin(page.url, href)
            parts = urlsplit(target)
            if not target.startswith(base) or parts.path.startswith(SKIP_PREFIXES) or parts.path.endswith("/download/"):
                continue
            name = _name(parts.path)
            if name is None or name in seen_names:
                continue
            seen_names.add(name)
            queue.append(target.split("#")[0])
    return visited, problems


@pytest.mark.parametrize("role", ["enumerator", "supervisor", "township", "district", "department", "auditor"])
def test_every_page_of_a_role_passes_axe_and_fits_a_phone(live_server, browser: Browser, demo: None, role: str) -> None:  # type: ignore[no-untyped-def]
    report: list[str] = []
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, live_server.url, role, DEMO_PASSWORD)
            phone = viewport is PHONE and role in FIELD_ROLES
            visited, problems = walk(page, live_server.url, phone=phone)
        finally:
            context.close()
        assert len(visited) >= 3, f"{role} at {viewport['width']} px reached only {visited}"
        if role == "enumerator":
            reached = {_name(urlsplit(where).path) for where in visited}
            assert {"enumeration:household-form", "enumeration:household-summary"} <= reached, visited
        report += [f"[{viewport['width']} px] {problem}" for problem in problems]
    assert not report, "\n".join(report)
