"""XSS sweep: a payload in every free-text field, every page read as every role, and no payload comes out as
markup — in the HTML (script elements, event handlers, javascript: URLs), in the JSON the pages' scripts
read, or in Chromium once the scripts have run.

How it finds things (tests/security/xss.py):

* fields: every CharField/TextField/JSONField of the census, enumeration, quality, progress and organisation
  models; codes held by choices, a regex validator or a database regex constraint, and fields too short for
  any payload, are skipped by their definition; every other field is either planted (``FREE_TEXT``) or
  skipped for a stated reason (``SKIPPED``) — a new field fails the first test until someone decides;
* values: households through the registration services (names, deaths, notes, a change after signing,
  review comments, a reopening), then every row of every other free-text field, whatever the permission
  matrix's ``SAMPLE_MAKERS`` created;
* pages: every URL of the URL conf that a role or an anonymous visitor may read (the permission matrix's
  discovery and access declarations), with up to three objects inside each role's scope, as every role;
  each page once more with the payload in its search, sort, page and filter parameters (reflected XSS).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

from tests.browser.conftest import log_in
from tests.census.factories import PASSWORD
from tests.security.conftest import World
from tests.security.xss import (
    FREE_TEXT,
    MUST_BE_SHOWN,
    PAYLOADS,
    SHORT_PAYLOAD,
    SKIPPED,
    classify,
    is_html,
    is_json,
    json_strings,
    markup_problems,
    plant,
    reflected_path,
    text_fields,
    text_of,
    walk,
)


def crashed(response: HttpResponse) -> bool:
    """A server error (the health check's 503 says that no Celery worker answers, which is its job)."""
    return response.status_code >= 500 and response.status_code != 503


def test_every_free_text_field_is_planted_or_skipped() -> None:
    auto, free, unknown = classify()
    assert not unknown, (
        f"New text fields: {unknown}. Add each to FREE_TEXT in tests/security/xss.py (the sweep writes a payload "
        "into it and checks every page), or to SKIPPED with the reason no person's text reaches a page through it."
    )
    known = set(text_fields())
    stale = sorted((set(FREE_TEXT) | set(SKIPPED)) - known)
    assert not stale, f"FREE_TEXT/SKIPPED name fields that no longer exist: {stale}"
    both = sorted(set(FREE_TEXT) & set(SKIPPED))
    assert not both, f"both planted and skipped: {both}"
    shadowed = sorted((set(FREE_TEXT) | set(SKIPPED)) & set(auto))
    assert not shadowed, f"FREE_TEXT/SKIPPED fields that their definition already skips: {shadowed}"
    assert set(free) >= MUST_BE_SHOWN
    # The automatic skips, stated once so that a reader of the test output sees them.
    print("\nskipped by definition:\n" + "\n".join(f"  {name}: {why}" for name, why in sorted(auto.items())))


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<p><script>alert(1)</script></p>", "script element"),
        ('<input value=""><img src=x onerror=alert(1)>">', "event-handler"),
        ("<a href=' javascript:alert(1)'>x</a>", "javascript: URL"),
        ("<i onclick=alert(1)>", "event-handler"),
        ('<script type="application/json">{"a": "</script><script>alert(1)</script>', "script element"),
    ],
)
def test_the_finder_sees_a_payload_that_became_markup(html: str, problem: str) -> None:
    assert any(problem in p for p in markup_problems(html)), markup_problems(html)


@pytest.mark.parametrize(
    "html",
    [
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>",
        '<input value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">',
        '<a href="/x/?q=javascript%3Aalert%281%29">javascript:alert(1)</a>',
        '<script type="application/json" id="d">{"name": "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E"}</script>',
    ],
)
def test_the_finder_leaves_escaped_payloads_alone(html: str) -> None:
    assert markup_problems(html) == []


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_no_page_shows_a_payload_as_markup(
    payload: str,
    world: World,
    role_clients: dict[str, Client],
    capsys: pytest.CaptureFixture[str],
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path  # evidence files of the planted records
    started = time.monotonic()
    planted = plant(world, payload)
    problems: list[str] = []
    shown: dict[str, set[str]] = {}
    pages = json_pages = reflected = 0
    reflected_done: set[str] = set()
    anonymous = Client()
    for visit in walk(world.by_role(), role_clients, anonymous):
        response = visit.response
        where = f"GET {visit.path} as {visit.who} ({response.status_code})"
        if crashed(response):
            problems.append(f"{where}: a server error with the payload in the data")
            continue
        if is_html(response):
            pages += 1
            html = text_of(response)
            problems += [f"{where}: {p}" for p in markup_problems(html)]
            for mark, name in planted.markers.items():
                if mark in html:
                    shown.setdefault(name, set()).add(visit.path)
            # Reflected: the same page with the payload in its query parameters, once per URL.
            route = visit.path.split("?")[0]
            if response.status_code == 200 and route not in reflected_done:
                reflected_done.add(route)
                client = anonymous if visit.who == "anonymous" else role_clients[visit.who]
                again = client.get(reflected_path(visit.path, html, payload))
                reflected += 1
                if crashed(again):
                    problems.append(f"GET {route} with the payload in its query as {visit.who}: {again.status_code}")
                elif is_html(again):
                    problems += [f"{route}?… (reflected) as {visit.who}: {p}" for p in markup_problems(text_of(again))]
        elif is_json(response):
            json_pages += 1
            body = text_of(response)
            # JSON is data: served as JSON (never as a page a browser would render), and the payload in it
            # is the text as typed, for the page's script to put in with textContent.
            data = json.loads(body) if body else None
            for text in json_strings(data):
                for mark, name in planted.markers.items():
                    if mark in text:
                        shown.setdefault(name, set()).add(visit.path)
            assert response.get("X-Content-Type-Options") == "nosniff", f"{where}: JSON without nosniff"
    elapsed = time.monotonic() - started
    with capsys.disabled():
        never = sorted(set(planted.markers.values()) - set(shown))
        print(
            f"\n[xss {payload!r}] {pages} HTML pages, {json_pages} JSON responses, {reflected} reflected, "
            f"{len(shown)} fields seen, in {elapsed:.0f}s; planted but on no page: {never}"
        )
    assert not problems, "\n".join(problems)
    assert pages > 50 and json_pages > 10
    missing = sorted(MUST_BE_SHOWN - set(shown))
    # The short payload carries no marker: fields it fills are counted by their own presence elsewhere.
    assert not missing or payload == SHORT_PAYLOAD, f"planted but shown on no page: {missing}"


@pytest.mark.django_db
def test_the_autosave_json_carries_the_payload_as_data(
    world: World,
    role_clients: dict[str, Client],
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The JSON the form page's script reads back after every save (issues, errors, labels): JSON with nosniff,
    never HTML, the payload in it as the text typed — the script puts it in with textContent."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    payload = PAYLOADS["img"]
    draft = plant(world, payload).households[0]
    client = role_clients["enumerator"]
    url = reverse("enumeration:household-autosave", args=[draft.pk])
    body = {"version": draft.version, "household": {"warning_notes": {"any": payload}}}
    saved = client.post(url, json.dumps(body), content_type="application/json")
    assert saved.status_code == 200, saved.content
    bad = client.post(
        url,
        json.dumps({"version": saved.json()["version"], "household": {"h2_present": payload}}),
        content_type="application/json",
    )
    assert bad.status_code == 400
    for response in (saved, bad):
        assert is_json(response) and response["X-Content-Type-Options"] == "nosniff"
        assert not is_html(response)
    draft.refresh_from_db()
    assert draft.warning_notes == {"any": payload}  # stored as typed, shown escaped
    form = client.get(reverse("enumeration:household-form", args=[draft.pk]))
    assert markup_problems(text_of(form)) == []


# --- what Chromium does with the pages -------------------------------------------------------------------

DOM_CHECK = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      const value = el.getAttribute(attr) || '';
      if (attr.startsWith('on')) found.push(`<${el.tagName} ${attr}>`);
      if (['href', 'src', 'action', 'formaction'].includes(attr) && value.replace(/[\\x00-\\x20]/g, '').toLowerCase().startsWith('javascript:')) {
        found.push(`<${el.tagName} ${attr}=${value}>`);
      }
    }
    if (el.tagName === 'SCRIPT' && (el.textContent || '').trim() === 'alert(1)') found.push('<script>alert(1)</script>');
  }
  return found;
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_opens_the_pages_with_payloads_and_runs_none(
    live_server,  # type: ignore[no-untyped-def]
    desktop: Page,
    world: World,
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """The pages whose scripts build content from data (the household form, the charts) and pages that list
    names, opened in Chromium after their scripts ran: no alert dialog, no element with an event handler or a
    javascript: URL in the live DOM, no inline code the Content-Security-Policy had to refuse."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    planted = plant(world, PAYLOADS["img"])
    draft, returned, reopened, *_others = planted.households
    dialogs: list[str] = []
    refused: list[str] = []
    desktop.on("dialog", lambda dialog: (dialogs.append(f"{desktop.url}: {dialog.message}"), dialog.dismiss()))
    desktop.on(
        "console",
        lambda message: (
            refused.append(f"{desktop.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    # The listener hears an alert: a page without a policy whose image handler runs.
    probe = f"{live_server.url}/xss-probe"
    desktop.route(
        probe,
        lambda route: route.fulfill(
            status=200, content_type="text/html", body='<html><body><img src=x onerror="alert(1)"></body></html>'
        ),
    )
    desktop.goto(probe)
    desktop.wait_for_timeout(300)
    assert dialogs and desktop.evaluate(DOM_CHECK), "the dialog listener or the DOM check heard nothing"
    dialogs.clear()

    pages = {
        world.cast.enumerator_a1: [
            reverse("enumeration:household-form", args=[draft.pk]),
            reverse("enumeration:household-summary", args=[draft.pk]),
            reverse("enumeration:household-form", args=[returned.pk]),
            reverse("enumeration:household-detail", args=[reopened.pk]),
            reverse("enumeration:area-listing", args=[world.cast.area_a1.pk]),
            reverse("enumeration:household-list"),
        ],
        world.cast.district_office: [
            reverse("enumeration:household-detail", args=[returned.pk]),
            reverse("supervision:dashboard"),
            reverse("supervision:dashboard-township", args=[world.cast.township_a.code]),
            reverse("supervision:trainings"),
            reverse("supervision:rectification"),
            reverse("supervision:readiness"),
            reverse("frame:audit-log"),
            reverse("jobs:list"),
        ],
    }
    problems: list[str] = []
    for user, urls in pages.items():
        desktop.context.clear_cookies()
        log_in(desktop, live_server.url, user.username, PASSWORD)
        for url in urls:
            desktop.goto(f"{live_server.url}{url}")
            desktop.wait_for_load_state("networkidle")
            assert "/accounts/login/" not in desktop.url, f"{user.username} was sent to the login page from {url}"
            problems += [f"{url} as {user.username}: {p}" for p in desktop.evaluate(DOM_CHECK)]
    assert not dialogs, dialogs
    assert not problems, problems
    assert not refused, refused
