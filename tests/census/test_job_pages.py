"""What a job's page says when the job failed, and where the offices find their jobs (issue 21, item 1).

A failure the system caused shows words of the page's own, never the exception (its class and English text stay
in the log and the job's ``error``); a refusal a handler explains (``JobFailed``) shows its reason as it is."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from census.jobs import job_run, job_start
from census.models import Job, JobStatus, StaffStatus
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _failed(job: Job) -> Job:
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    return job


def test_a_job_stopped_by_a_fault_shows_no_exception_on_its_page(cast: Cast, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    # A table that does not exist: the handler stops on a KeyError, a fault of the system, not of the user.
    job = _failed(
        job_start(kind="progress_table", title="t", user=cast.district_office, params={"table": "no-such-table"})
    )
    assert "KeyError" in job.error  # kept for whoever reads the log and the database
    body = login(cast.district_office).get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "KeyError" not in body and "no-such-table" not in body
    with translation.override("zh-hans"):
        assert translation.gettext("The job failed:") in body
    assert f"({job.pk})" in body or f" {job.pk}" in body  # the job's number, to quote to the administrator


def test_a_refused_job_shows_its_reason_without_the_exception_class(cast: Cast, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    office = cast.township_office_a
    job = job_start(
        kind="progress_table", title="t", user=office, params={"table": "villages", "township": cast.township_a.code}
    )
    # The person who started it left before the worker took it (a status other than active ends the account).
    office.status, office.is_active = StaffStatus.LEFT, False
    office.save(update_fields=["status", "is_active"])
    job = _failed(job)
    client = login(cast.district_office)  # the district office sees the township's table exports
    body = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    with translation.override("zh-hans"):
        reason = translation.gettext("The person who started this export no longer has an active account.")
    assert reason in body
    assert "ExportRefused" not in body and "Exception" not in body


@pytest.mark.parametrize("role_attribute", ["township_office_a", "district_office"])
def test_the_offices_menu_leads_to_their_jobs(cast: Cast, login, role_attribute: str) -> None:  # type: ignore[no-untyped-def]
    body = login(getattr(cast, role_attribute)).get(reverse("home"), follow=True).content.decode()
    assert f'href="{reverse("jobs:list")}"' in body.split("</nav>")[0]


def test_field_staff_who_start_no_jobs_have_no_jobs_menu(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    body = login(cast.enumerator_a1).get(reverse("home"), follow=True).content.decode()
    assert f'href="{reverse("jobs:list")}"' not in body.split("</nav>")[0]
