"""No dead ends (issue 21, item 8): every link a page shows a role leads somewhere that role may go, every button
posts to a view that role may use, and a page that is refused or not found is the site's own page, in Chinese,
inside the layout, with a way back.

Each role of the demo district walks its pages from its start page, following every link it is shown (a few of
each kind of page), with the test client."""

from __future__ import annotations

import io
import re
from collections import deque
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import translation

from census.models import StaffMember
from supervision.progress.services import progress_refresh

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ["enumerator", "supervisor", "township", "district", "department", "auditor"]
# Pages of each URL name visited (a list's first rows are enough to show its links) and pages in all.
PER_NAME = 3
MAX_PAGES = 160
SKIP = ("/api/", "/static/", "/admin/", "/i18n/", "/accounts/")
LINK = re.compile(r'<a\b[^>]*?\bhref="([^"#]*)"', re.S)
FORM = re.compile(r"<form\b([^>]*)>", re.S)


@pytest.fixture
def demo() -> None:
    call_command("seed_district", persons=600, seed=5, plant_errors="", stdout=io.StringIO())
    for command in getattr(settings, "CENSUS_DEMO_EXTRA_COMMANDS", []):
        call_command(command, if_empty=True, stdout=io.StringIO())
    call_command("run_checks", full=True, workers=1, stdout=io.StringIO())
    progress_refresh()


def _name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _walk(client: Client, role: str) -> tuple[list[str], int]:
    """(problems, pages visited): links answered 403 or 404, forms posting to a view the role may not use."""
    start = client.get("/", follow=True).request["PATH_INFO"]
    queue: deque[tuple[str, str]] = deque([(start, "the start page")])
    seen: set[str] = {start}
    per_name: dict[str | None, int] = {}
    problems: list[str] = []
    visited = 0
    user = StaffMember.objects.get(username=role)
    while queue and visited < MAX_PAGES:
        url, came_from = queue.popleft()
        response = client.get(url)
        visited += 1
        if response.status_code in (403, 404):
            problems.append(f"{came_from} shows a link to {url}, which answers {response.status_code}")
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        for attributes in FORM.findall(body):
            if 'method="post"' not in attributes.lower():
                continue
            action = re.search(r'action="([^"]*)"', attributes)
            target = urlsplit(urljoin(url, action.group(1) if action else url)).path
            if target.startswith(SKIP):
                continue
            try:
                view = resolve(target).func
            except Resolver404:
                problems.append(f"{url} has a form posting to {target}, which does not exist")
                continue
            allowed = getattr(view, "allowed_roles", None)
            if allowed is not None and user.role not in allowed:
                problems.append(f"{url} shows a button posting to {target}, which a {user.role} may not use")
        for href in LINK.findall(body):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP):
                continue
            if parts.path.endswith("/download/"):
                continue
            name = _name(parts.path)
            if target in seen or per_name.get(name, 0) >= PER_NAME:
                continue
            seen.add(target)
            per_name[name] = per_name.get(name, 0) + 1
            queue.append((target, url))
    return problems, visited


@pytest.mark.parametrize("role", ROLES)
def test_every_link_and_button_a_role_is_shown_is_one_it_may_use(demo: None, role: str) -> None:
    client = Client()
    client.force_login(StaffMember.objects.get(username=role))
    problems, visited = _walk(client, role)
    assert visited > 5, f"{role} reached only {visited} pages"
    assert not problems, "\n".join(problems)


def _page_parts(body: str) -> dict[str, Any]:
    return {
        "layout": 'class="topbar"' in body and "<nav" in body,
        "home link": re.search(
            r'<a\b[^>]*class="[^"]*button[^"]*"[^>]*href="/"|<a\b[^>]*href="/"[^>]*class="[^"]*button', body
        )
        is not None,
    }


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("department", "/supervision/awareness/", 403),
        ("auditor", "/enumeration/review/", 403),
        ("enumerator", "/no/such/page/", 404),
        ("district", "/supervision/quality/findings/999999/", 404),
    ],
)
def test_a_refused_or_missing_page_is_the_site_s_own_in_chinese_with_a_way_back(
    cast: Any, role: str, url: str, status: int
) -> None:
    users = {"department": cast.department_user, "auditor": cast.auditor, "enumerator": cast.enumerator_a1}
    users["district"] = cast.district_office
    client = Client()
    client.force_login(users[role])
    with translation.override("zh-hans"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == status
    body = response.content.decode()
    assert "Forbidden" not in body and "Not Found" not in body
    assert '<html lang="zh-hans">' in body
    parts = _page_parts(body)
    assert parts["layout"], "the page is not inside the site's layout"
    assert parts["home link"], "no way back to the start page"


def test_an_unknown_address_is_a_page_with_a_way_to_log_in_for_a_visitor(client: Client) -> None:
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not Found" not in body and 'class="topbar"' in body and 'href="/accounts/login/"' in body
