"""PostgreSQL down (tests/security/outages.py: every database alias pointed at a closed port, so that each
connection attempt is refused by the operating system, as it is when the server is stopped).

/healthz answers the documented 503 with its reasons; every page answers 503 with a "service unavailable"
page in the reader's language, rendered without the database; the API answers 503 with JSON; a submission
is refused the same way and goes through once the database is back.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from enumeration.models import Household
from tests.census.factories import PASSWORD
from tests.enumeration.factories import family_form
from tests.security.bad_input import error_messages_of, has_chinese, has_english, png_data_url
from tests.security.conftest import World
from tests.security.outages import postgres_unreachable
from tests.security.xss import is_html, is_json, paths_for, readable_endpoints, text_of

pytestmark = pytest.mark.django_db(transaction=True)

FAST = 3.0


def quiet(user: Any = None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def test_healthz_answers_503_with_the_reasons_when_the_database_is_down() -> None:
    with postgres_unreachable():
        started = time.monotonic()
        response = quiet().get("/healthz")
        took = time.monotonic() - started
    assert took < FAST
    assert response.status_code == 503, response.content[:300]
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["checks"]["redis"]["ok"] is True


def _unavailable_problems(response: Any, language: str, label: str) -> list[str]:
    """What is wrong with an answer that should say "service unavailable" (503) in the reader's language."""
    if response.status_code != 503:
        return [f"{label}: {response.status_code}, expected 503"]
    if label.split()[1].startswith("/api/"):
        if not is_json(response):
            return [f"{label}: 503 without JSON ({response['Content-Type']})"]
        text = str(response.json().get("detail", ""))
    elif is_html(response):
        text = error_messages_of(text_of(response))
    else:
        return [f"{label}: 503 that is neither a page nor JSON ({response['Content-Type']})"]
    if language == "zh-hans" and not has_chinese(text):
        return [f"{label}: no Chinese in {text[:200]!r}"]
    if language == "en" and (has_chinese(text) or not has_english(text)):
        return [f"{label}: not English: {text[:200]!r}"]
    if response.get("Retry-After") is None:
        return [f"{label}: no Retry-After"]
    return []


def test_every_page_and_api_read_answers_503_saying_the_service_is_unavailable(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every URL a role may read (the permission matrix's discovery), as a signed-in user allowed to read it,
    and the login page as an anonymous visitor: a 503 page in the reader's language (JSON on the API), not a
    bare server error. The page is rendered without the database: a query there would fail as well."""
    users = world.by_role()
    requests: list[tuple[str, str]] = []
    for endpoint in readable_endpoints():
        access = endpoint.access
        assert access is not None
        who = next((role for role, user in users.items() if access.allows(user)), None)
        if who is None:
            continue
        requests += [(who, path) for path in paths_for(endpoint, users[who])[:1]]
    clients = {who: quiet(user) for who, user in users.items()}
    anonymous = quiet()
    problems: list[str] = []
    with postgres_unreachable():
        started = time.monotonic()
        for number, (who, path) in enumerate(requests):
            if path == "/healthz":
                continue
            for language in ("zh-hans", "en") if number % 10 == 0 else ("zh-hans",):
                response = clients[who].get(path, HTTP_ACCEPT_LANGUAGE=language)
                if response.status_code == 405:
                    break  # a URL that only takes POST (the refusal needs no database)
                problems += _unavailable_problems(response, language, f"GET {path} as {who} ({language})")
        login = anonymous.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        problems += _unavailable_problems(login, "zh-hans", "GET /accounts/login/ as anonymous (zh-hans)")
        elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[postgres down] {len(requests)} URLs in {elapsed:.1f} s")
    assert len(requests) > 100
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_submission_while_the_database_is_down_is_a_503_and_goes_through_once_it_is_back(
    world: World, language: str
) -> None:
    cast = world.cast
    client = quiet(cast.enumerator_a1)
    data, persons = family_form()
    body = json.dumps(
        {
            "small_area": cast.area_a1.pk,
            "head_name": "王伟",
            "household": data,
            "persons": persons,
            "deaths": [],
            "respondent": {"name": "李芳", "relationship": 1, "signature_image": png_data_url()},
            "password": PASSWORD,
        }
    )
    households = Household.objects.count()
    with postgres_unreachable():
        response = client.post(
            "/api/households/submit/",
            body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
            HTTP_IDEMPOTENCY_KEY="outage-1",
        )
        page = client.post("/accounts/logout/", HTTP_ACCEPT_LANGUAGE=language)
    assert not _unavailable_problems(response, language, f"POST /api/households/submit/ ({language})")
    assert response.json()["code"] == "database_unavailable"
    assert not _unavailable_problems(page, language, f"POST /accounts/logout/ ({language})")
    assert Household.objects.count() == households
    again = client.post(
        "/api/households/submit/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="outage-1"
    )
    assert again.status_code == 201, again.content[:300]
    assert Household.objects.count() == households + 1
    assert Household.objects.get(pk=again.json()["id"]).state == "signed"
