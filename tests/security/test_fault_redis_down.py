"""Redis down (tests/security/outages.py: the cache, the Celery broker and /healthz pointed at a closed port).

The cache is an optimisation: every page still answers, forms are still saved and signed, and the limit of wrong
signing passwords still holds (its count is kept on the person's row, census.passwords). A job that cannot be handed to the
workers is not left behind as queued: starting one fails at once and says so, and nothing is written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from census.jobs import JobOutput, ProgressReporter, job_handler, job_start
from census.models import AuditAction, AuditEvent, Job, JobStatus
from enumeration.models import Household
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.security.bad_input import error_messages_of, has_chinese, has_english, png_data_url
from tests.security.conftest import World
from tests.security.matrix import changed_tables, fingerprint
from tests.security.outages import redis_unreachable
from tests.security.xss import is_html, text_of, walk

# Refused connections fail in microseconds; what must not happen is a wait for retries (19 s before).
FAST = 3.0


@job_handler("test_fault_noop")
def _noop(job: Job, report: ProgressReporter) -> JobOutput:
    return JobOutput(result={"ran": True})


def quiet(user: Any) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def redis_down() -> Iterator[str]:
    with redis_unreachable() as url:
        yield url


# --- /healthz -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_says_redis_is_down_and_why_at_once(redis_down: str) -> None:
    started = time.monotonic()
    response = Client().get("/healthz")
    assert time.monotonic() - started < FAST
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["redis"] == {"ok": False, "detail": "ConnectionError"}
    assert checks["worker"] == {"ok": False, "detail": "redis unreachable"}


# --- pages ----------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_every_page_answers_without_redis(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Every page and API read of the permission matrix's walk, as every role: no server error, and none waits
    for Redis. The lists count their rows themselves when the remembered count cannot be read."""
    users = world.by_role()
    clients = {who: quiet(user) for who, user in users.items()}
    problems: list[str] = []
    visits = slowest = 0.0
    with redis_unreachable():
        started = time.monotonic()
        last = started
        for visit in walk(users, clients, Client(raise_request_exception=False)):
            now = time.monotonic()
            slowest = max(slowest, now - last)
            last = now
            visits += 1
            status = visit.response.status_code
            if status >= 500 and visit.path != "/healthz":
                problems.append(f"GET {visit.path} as {visit.who}: {status}")
        elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[redis down] {visits:.0f} requests in {elapsed:.1f} s, the slowest {slowest:.2f} s")
    assert visits > 100
    assert not problems, f"{len(problems)} pages failed:\n" + "\n".join(problems)
    assert slowest < FAST


# --- registration ---------------------------------------------------------------------------------------


def _submission(cast: Cast) -> dict[str, Any]:
    data, persons = family_form()
    return {
        "small_area": cast.area_a1.pk,
        "head_name": "王伟",
        "household": data,
        "persons": persons,
        "deaths": [],
        "respondent": {"name": "李芳", "relationship": 1, "signature_image": png_data_url()},
        "password": PASSWORD,
    }


@pytest.mark.django_db
def test_forms_are_listed_and_saved_without_redis(
    cast: Cast, redis_down: str, django_capture_on_commit_callbacks: Any
) -> None:
    """Listing a household, saving its form through the API and through the form page's autosave need no
    Redis; the refresh of the dashboards each save asks for afterwards is skipped (the beat run catches up)."""
    client = quiet(cast.enumerator_a1)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        listed = client.post(
            "/api/households/", {"small_area": cast.area_a1.pk, "head_name": "王伟"}, content_type="application/json"
        )
    assert listed.status_code == 201, listed.content[:300]
    household = Household.objects.get(pk=listed.json()["id"])
    data, persons = family_form()
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.put(
            f"/api/households/{household.pk}/",
            {"version": household.version, "household": data, "persons": persons, "deaths": []},
            content_type="application/json",
        )
    assert saved.status_code == 200, saved.content[:300]
    with django_capture_on_commit_callbacks(execute=True):
        autosaved = client.post(
            reverse("enumeration:household-autosave", args=[household.pk]),
            json.dumps({"version": saved.json()["version"], "household": {"h7_rooms": 4}}),
            content_type="application/json",
        )
    assert autosaved.status_code == 200, autosaved.content[:300]
    assert time.monotonic() - started < FAST
    household.refresh_from_db()
    assert household.h7_rooms == 4 and household.persons.count() == len(persons)


@pytest.mark.django_db
def test_households_are_signed_without_redis_and_wrong_passwords_still_lock(cast: Cast) -> None:
    """Registration goes on without Redis: a signed submission is written, signed, at once. The limit of wrong
    signing passwords holds all the same — five wrong ones (the login's limit) and the sixth attempt is refused
    even with the right password — and the wrong attempts are in the audit log."""
    client = quiet(cast.enumerator_a1)
    limit = settings.AXES_FAILURE_LIMIT
    with redis_unreachable():
        started = time.monotonic()
        response = client.post(
            "/api/households/submit/", json.dumps(_submission(cast)), content_type="application/json"
        )
        assert time.monotonic() - started < FAST
        assert response.status_code == 201, response.content[:300]
        assert Household.objects.get(pk=response.json()["id"]).state == "signed"
        for _ in range(limit):
            wrong = client.post(
                "/api/households/submit/",
                json.dumps({**_submission(cast), "password": "not-the-password"}),
                content_type="application/json",
            )
            assert wrong.status_code == 400 and wrong.json()["code"] == "bad_password", wrong.content[:300]
        locked = client.post("/api/households/submit/", json.dumps(_submission(cast)), content_type="application/json")
    assert locked.json()["code"] == "signing_locked", locked.content[:300]
    assert Household.objects.filter(state="signed").count() == 1
    refused = AuditEvent.objects.filter(action=AuditAction.PASSWORD_REFUSED, actor_id=cast.enumerator_a1.pk)
    assert refused.count() == limit + 1


# --- jobs -----------------------------------------------------------------------------------------------


def _nothing_left_behind(before: dict[str, str]) -> None:
    """No table changed: no job (queued or failed), no run, no audit entry of an export that never started."""
    changed = changed_tables(before, fingerprint())
    assert changed == [], f"a job that could not be queued left rows behind in {changed}"


@pytest.mark.django_db(transaction=True)
def test_an_export_started_without_redis_fails_at_once_says_why_and_leaves_nothing(world: World) -> None:
    """The district office starts a summary export (the exports page), a township office a dashboard table
    (htmx) and a subsidy payment sheet: each answers within seconds with a message, and no job (queued or
    otherwise) and no audit entry of an export that never started is left."""
    cast = world.cast
    district = quiet(cast.district_office)
    township = quiet(cast.township_office_a)
    starts = [
        (district, reverse("supervision:export-start"), {"kind": "progress_summary", "format": "xlsx"}, {}),
        (
            township,
            reverse("supervision:progress-table-export", args=["enumerators"]),
            {"township": cast.township_a.code},
            {"HTTP_HX_REQUEST": "true"},
        ),
        (township, reverse("supervision:subsidy-export"), {"township": cast.township_a.code}, {}),
    ]
    before = fingerprint()
    exports_before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    problems = []
    with redis_unreachable():
        for client, url, data, headers in starts:
            for language in ("zh-hans", "en"):
                started = time.monotonic()
                response = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language, **headers)
                took = time.monotonic() - started
                if response.status_code in (301, 302):
                    response = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language)
                text = error_messages_of(text_of(response)) if is_html(response) else text_of(response)
                label = f"POST {url} ({language})"
                if took > FAST:
                    problems.append(f"{label}: {took:.1f} s")
                if response.status_code not in (200, 503):
                    problems.append(f"{label}: {response.status_code}")
                elif not (has_chinese(text) if language == "zh-hans" else has_english(text)):
                    problems.append(f"{label}: no message in the reader's language: {text[:200]!r}")
    assert not problems, "\n".join(problems)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == exports_before
    _nothing_left_behind(before)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_check_run_started_through_the_api_without_redis_is_a_503_and_leaves_nothing(
    cast: Cast, language: str
) -> None:
    client = quiet(cast.district_office)
    before = fingerprint()
    with redis_unreachable():
        started = time.monotonic()
        response = client.post(
            "/api/quality/runs/",
            {"mode": "incremental", "township": cast.township_a.code},
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert time.monotonic() - started < FAST
    assert response.status_code == 503, response.content[:300]
    assert response.json()["code"] == "queue_unavailable"
    detail = response.json()["detail"]
    assert has_chinese(detail) if language == "zh-hans" else has_english(detail) and not has_chinese(detail)
    _nothing_left_behind(before)


@pytest.mark.django_db(transaction=True)
def test_retrying_a_failed_job_without_redis_keeps_it_failed_and_says_why(cast: Cast) -> None:
    job = Job.objects.create(
        kind="test_fault_noop", title="重试", created_by=cast.district_office, status=JobStatus.FAILED, error="旧"
    )
    client = quiet(cast.district_office)
    with redis_unreachable():
        response = client.post(reverse("jobs:retry", args=[job.pk]), follow=True)
    assert response.status_code in (200, 503)
    assert has_chinese(error_messages_of(text_of(response)))
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_queue_goes_away_before_its_transaction_commits_is_failed_with_the_reason(
    cast: Cast, settings: Any, tmp_path: Path
) -> None:
    """Redis answers when the job is created and is gone when the transaction commits and the job is handed to
    the workers: the job is marked failed at once, with the reason, and can be retried from its page."""
    with ExitStack() as outage:
        started = time.monotonic()
        with transaction.atomic():
            job = job_start(kind="test_fault_noop", title="导出", user=cast.district_office)
            outage.enter_context(redis_unreachable())
        took = time.monotonic() - started
    job.refresh_from_db()
    assert took < FAST
    assert job.status == JobStatus.FAILED
    assert job.finished_at is not None
    assert has_chinese(job.error), job.error
