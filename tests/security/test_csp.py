"""Content-Security-Policy: no inline script anywhere, no inline style, and every page carries the header.

The permission matrix parses every HTML page it is served (test_permission_matrix.py); here: the policy
itself, every template file (including pages the walk cannot reach), Swagger UI, and Chromium's own verdict.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser

from tests.browser.conftest import log_in
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.security.matrix import html_problems

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.django_db
def test_the_policy_allows_scripts_and_styles_from_this_site_only(client: Client) -> None:
    response = client.get(reverse("login"))
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"] and policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert html_problems(response) == []


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_no_template_has_inline_script_or_style(template: Path) -> None:
    text = template.read_text(encoding="utf-8")
    problems = []
    for match in re.finditer(r"<script\b([^>]*)>", text, flags=re.IGNORECASE):
        attributes = match.group(1)
        if "src=" not in attributes and "application/json" not in attributes:
            problems.append(f"inline <script>: {match.group(0)}")
    problems += [f"<style> element: {m.group(0)}" for m in re.finditer(r"<style\b", text, flags=re.IGNORECASE)]
    problems += [f"style attribute: {m.group(0)}" for m in re.finditer(r"\sstyle\s*=", text, flags=re.IGNORECASE)]
    problems += [f"event handler: {m.group(0)}" for m in re.finditer(r"\son[a-z]+\s*=", text, flags=re.IGNORECASE)]
    problems += [f"javascript: URL: {m.group(0)}" for m in re.finditer(r"javascript:", text, flags=re.IGNORECASE)]
    assert not problems, (
        f"{template}: {problems} — the Content-Security-Policy blocks these. Put JavaScript in static/js/<page>.js "
        "and pass data with data-* attributes or json_script; put styles in static/css/app.css."
    )


@pytest.mark.django_db
def test_swagger_ui_loads_its_start_up_script_as_a_file(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.district_office)
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200
    assert html_problems(page) == []
    scripts = re.findall(r'<script src="([^"]+)"', page.content.decode())
    assert len(scripts) == 3 and scripts[-1].endswith("?script=")
    script = client.get(scripts[-1])
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_the_api_schema_and_documentation_are_for_staff_only(client: Client) -> None:
    assert client.get(reverse("schema")).status_code in (401, 403)
    assert client.get(reverse("api-docs")).status_code in (401, 403)


# --- what Chromium says ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_chromium_reports_no_csp_violation_on_the_pages_and_swagger_ui(
    live_server,  # type: ignore[no-untyped-def]
    browser: Browser,
    cast: Cast,
) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    try:
        # The watcher hears a violation: a page with an inline script under the same kind of policy.
        probe = f"{live_server.url}/csp-probe"
        page.route(
            probe,
            lambda route: route.fulfill(
                status=200,
                headers={"Content-Security-Policy": "script-src 'self'"},
                content_type="text/html",
                body="<html><body><script>document.title = 'ran'</script></body></html>",
            ),
        )
        page.goto(probe)
        assert page.title() != "ran" and violations, "the console watcher did not see a blocked inline script"
        violations.clear()

        page.goto(f"{live_server.url}{reverse('login')}")
        log_in(page, live_server.url, cast.district_office.username, PASSWORD)
        assert "/accounts/login/" not in page.url
        for name in ("frame:townships", "frame:small-areas", "frame:staff", "frame:audit-log", "jobs:list"):
            page.goto(f"{live_server.url}{reverse(name)}")
            page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}{reverse('api-docs')}")
        page.wait_for_selector("#swagger-ui .info .title", timeout=20_000)
        assert settings.SPECTACULAR_SETTINGS["TITLE"] in page.inner_text("#swagger-ui .info .title")
    finally:
        context.close()
    assert violations == []
