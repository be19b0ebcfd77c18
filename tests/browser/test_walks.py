"""Each role's main task, end to end, in Chromium — the enumerator and the supervisor on a 360-px phone, the offices,
the department and the auditor at a desk — with every page held to ``check_page`` (axe-core; on a phone no
sideways scrolling and 44-px targets) and the README tour's screenshots (issue 21).

The enumerator's registration itself (the household form, its read-back and signing) is walked by
test_registration_flow.py; the form is being rebuilt (issue 19)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from census.jobs import job_run
from census.models import Job, JobStatus, StaffMember, SupervisorAssignment
from enumeration.models import Household, HouseholdState
from supervision.progress.services import progress_refresh
from supervision.quality.models import Finding, FindingState
from supervision.quality.services import finding_explain
from tests.browser.conftest import log_in, screenshot
from tests.browser.pages import check_page, follow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"


@pytest.fixture
def district(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    call_command(
        "seed_district", persons=3000, seed=8, plant_errors=str(tmp_path / "manifest.json"), stdout=io.StringIO()
    )
    call_command("seed_organisation", if_empty=True, stdout=io.StringIO())
    call_command("run_checks", full=True, workers=1, stdout=io.StringIO())
    progress_refresh()


def _busiest_enumerator() -> StaffMember:
    """The enumerator with the most open findings on household forms."""
    return max(
        StaffMember.objects.filter(role="enumerator"),
        key=lambda staff: Finding.objects.filter(
            responsible=staff, state=FindingState.OPEN, household__isnull=False
        ).count(),
    )


def test_the_enumerator_s_day(live_server, phone: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    enumerator = _busiest_enumerator()
    log_in(phone, live_server.url, enumerator.username, DEMO_PASSWORD)
    # The start page: my small areas, my open findings first.
    expect(phone.locator("#my-findings-summary")).to_be_visible()
    check_page(phone, phone=True)
    screenshot(phone, "enumerator-start-phone")

    # The listing of a small area: find a household, add one found later.
    follow(phone, phone.locator("a.stretch[href*='/enumeration/areas/']").first)
    check_page(phone, phone=True)
    phone.locator("#add-household summary").click()
    phone.fill("#id_head_name", "新发现户主")
    phone.fill("#id_expected_persons", "3")
    phone.locator("#add-household button[type=submit]").click()
    expect(phone.locator(".messages .message.success")).to_be_in_viewport()
    check_page(phone, phone=True)
    screenshot(phone, "listing-phone")

    # A finding on a form I signed: read it, explain it, sign the explanation.
    follow(phone, phone.locator("nav.topnav a[href='/supervision/quality/mine/']"))
    check_page(phone, phone=True)
    finding = Finding.objects.filter(responsible=enumerator, state=FindingState.OPEN, household__isnull=False).first()
    assert finding is not None
    phone.goto(f"{live_server.url}/supervision/quality/findings/{finding.pk}/")
    check_page(phone, phone=True)
    phone.fill("#id_explanation", "已入户核实：与户口簿一致，记录无误。")
    phone.fill("#id_password", DEMO_PASSWORD)
    phone.locator("#explain-form button[type=submit]").click()
    expect(phone.locator(".message.success")).to_be_visible()
    check_page(phone, phone=True)
    screenshot(phone, "enumerator-finding-phone")
    finding.refresh_from_db()
    assert finding.state == FindingState.EXPLAINED


def test_the_supervisor_s_day(live_server, phone: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    enumerator = _busiest_enumerator()
    supervisor = StaffMember.objects.get(pk=SupervisorAssignment.objects.get(enumerator=enumerator).supervisor_id)
    explained = Finding.objects.filter(responsible=enumerator, state=FindingState.OPEN, household__isnull=False).first()
    assert explained is not None
    finding_explain(finding=explained, actor=enumerator, explanation="已入户核实：记录无误。", password=DEMO_PASSWORD)
    log_in(phone, live_server.url, supervisor.username, DEMO_PASSWORD)
    # The review queue is the start page: open a signed form, read it, approve it.
    assert phone.url.endswith("/enumeration/review/")
    check_page(phone, phone=True)
    follow(phone, phone.locator("table.queue td.card-title a").first)
    check_page(phone, phone=True)
    household = Household.objects.get(pk=int(phone.url.rstrip("/").rsplit("/", 1)[1]))
    phone.locator("button[data-action=approve]").click()
    expect(phone.locator(".message.success")).to_be_visible()
    household.refresh_from_db()
    assert household.state == HouseholdState.APPROVED

    # Findings to verify: accept the enumerator's explanation.
    phone.goto(f"{live_server.url}/supervision/quality/mine/?show=verify")
    check_page(phone, phone=True)
    follow(phone, phone.locator(f"a[href='/supervision/quality/findings/{explained.pk}/']").first)
    check_page(phone, phone=True)
    phone.locator("#verify button.primary").click()
    expect(phone.locator("#finding-state")).to_be_visible()
    check_page(phone, phone=True)
    screenshot(phone, "supervisor-verified-phone")
    explained.refresh_from_db()
    assert explained.state == FindingState.VERIFIED


def test_the_township_office_s_day(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    office = StaffMember.objects.get(username="township")
    log_in(desktop, live_server.url, "township", DEMO_PASSWORD)
    check_page(desktop, phone=False)
    # Export the villages table from the dashboard, and download it where it was asked for.
    desktop.locator("#table-villages form[action*='/export/'] button[type=submit]").click()
    expect(desktop.locator("#table-villages-export .job-status")).to_be_visible()
    job_run(Job.objects.get(kind="progress_table").pk)
    link = desktop.locator("#table-villages-export a[href$='/download/']")
    expect(link).to_be_visible(timeout=10_000)
    screenshot(desktop, "township-export")
    with desktop.expect_download():
        link.click()
    # Accept (验收) an approved form of the township.
    approved = Household.objects.filter(township_id=office.township_id, state=HouseholdState.APPROVED).first()
    assert approved is not None
    desktop.goto(f"{live_server.url}/enumeration/households/{approved.pk}/")
    check_page(desktop, phone=False)
    desktop.locator("button[data-action=accept]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    approved.refresh_from_db()
    assert approved.state == HouseholdState.ACCEPTED
    follow(desktop, desktop.locator("nav.topnav a[href='/jobs/']"))
    check_page(desktop, phone=False)


def test_the_district_office_s_day(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    check_page(desktop, phone=False)
    expect(desktop.locator("#figures-as-of")).to_be_visible()
    # The townships (乡镇/街道) table exports, progress and download in place.
    desktop.locator("#table-townships form[action*='/export/'] button[type=submit]").click()
    expect(desktop.locator("#table-townships-export .job-status")).to_be_visible()
    job = Job.objects.get(kind="progress_table")
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    expect(desktop.locator("#table-townships-export a[href$='/download/']")).to_be_visible(timeout=10_000)
    screenshot(desktop, "district-export")
    # Lock an accepted form.
    accepted = Household.objects.filter(state=HouseholdState.ACCEPTED).first()
    assert accepted is not None
    desktop.goto(f"{live_server.url}/enumeration/households/{accepted.pk}/")
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.locator("button[data-action=lock]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    accepted.refresh_from_db()
    assert accepted.state == HouseholdState.LOCKED
    # The check runs, in words.
    desktop.goto(f"{live_server.url}/supervision/quality/runs/")
    follow(desktop, desktop.locator("table a[href^='/supervision/quality/runs/']").first)
    check_page(desktop, phone=False)
    screenshot(desktop, "quality-check-run")


def test_the_department_s_day(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    log_in(desktop, live_server.url, "department", DEMO_PASSWORD)
    assert desktop.url.endswith("/supervision/rectification/")
    check_page(desktop, phone=False)
    follow(desktop, desktop.locator("#my-tasks a[href*='/rectification/tasks/']").first)
    check_page(desktop, phone=False)
    # 四落实: no button to a page the department may not open.
    follow(desktop, desktop.locator("nav.topnav a[href='/supervision/readiness/']"))
    check_page(desktop, phone=False)
    expect(desktop.locator("a[href='/supervision/awareness/']")).to_have_count(0)
    # An address that does not exist: the site's own page, with a way back.
    response = desktop.goto(f"{live_server.url}/supervision/no-such-page/")
    assert response is not None and response.status == 404
    check_page(desktop, phone=False)
    screenshot(desktop, "error-404")
    desktop.locator("#error-page a.button").click()
    assert desktop.url.endswith("/supervision/rectification/")


def test_the_auditor_s_day(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    log_in(desktop, live_server.url, "auditor", DEMO_PASSWORD)
    assert desktop.url.endswith("/frame/audit-log/")
    check_page(desktop, phone=False)
    text = desktop.locator("table tbody").inner_text()
    assert "{'" not in text and "organisation." not in text
    screenshot(desktop, "audit-log")
    # A household: no breadcrumb to the review queue, which is not the auditor's.
    desktop.locator("nav.topnav a[href='/enumeration/households/']").click()
    follow(desktop, desktop.locator("table.households td.card-title a").first)
    check_page(desktop, phone=False)
    expect(desktop.locator("nav.crumbs a[href='/enumeration/review/']")).to_have_count(0)
    # Typed by hand: refused in the site's own words.
    response = desktop.goto(f"{live_server.url}/enumeration/review/")
    assert response is not None and response.status == 403
    check_page(desktop, phone=False)
    screenshot(desktop, "error-403")
