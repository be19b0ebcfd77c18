"""A dashboard table's "导出xlsx" in Chromium (issue 21, item 1): the district office clicks it and sees the job's
progress where it clicked, then the download link, without leaving the dashboard; the jobs page is in the menu."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from census.jobs import job_run
from census.models import Job, JobStatus
from supervision.progress.services import progress_refresh
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"


@pytest.fixture
def district() -> None:
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())
    progress_refresh()


def test_the_district_exports_the_townships_table_from_its_dashboard(  # type: ignore[no-untyped-def]
    live_server, desktop: Page, district: None, settings, tmp_path
) -> None:
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    table = desktop.locator("#table-townships")
    table.locator("form[action*='/export/'] button[type=submit]").click()
    status = desktop.locator("#table-townships-export .job-status")
    expect(status).to_be_visible()  # the job's progress appears under the button
    expect(status.locator("[role=progressbar]")).to_be_attached()
    job = Job.objects.get(kind="progress_table")
    job_run(job.pk)  # no worker in the test: the page polls the job's row
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    link = desktop.locator("#table-townships-export a[href$='/download/']")
    expect(link).to_be_visible(timeout=10_000)  # swapped in by the status's own polling, the page never reloaded
    assert desktop.url.rstrip("/").endswith("/supervision/progress")
    expect(desktop.locator("#table-townships table[data-table=townships]")).to_be_visible()  # the table is still there
    with desktop.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == job.file_name

    # The jobs page is one click away in the menu, and lists the export.
    desktop.locator("nav.topnav a[href='/jobs/']").click()
    expect(desktop.locator(f"a[href='/jobs/{job.pk}/']")).to_be_visible()
