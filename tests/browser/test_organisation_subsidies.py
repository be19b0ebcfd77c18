"""两员 subsidies in the browser: a township office pays what is in arrears, a reduction without an approver is
refused, and the payment sheet is built in the background and downloaded."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from census.jobs import job_run
from census.models import Job, StaffMember
from supervision.organisation.models import SubsidyDue
from tests.browser.conftest import log_in, screenshot
from tests.organisation.browser import DEMO_PASSWORD, charts_drawn, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo(settings, tmp_path)


def test_a_township_pays_arrears_and_builds_its_payment_sheet(live_server, desktop: Page, demo: None) -> None:  # type: ignore[no-untyped-def]
    office = StaffMember.objects.get(username="township")
    due = SubsidyDue.objects.filter(township_id=office.township_id, outstanding__gt=0).order_by("due_on", "pk").first()
    assert due is not None, "the sample data leaves some subsidies of the demo township unpaid"
    log_in(desktop, live_server.url, "township", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/subsidies/?state=overdue")
    expect(desktop.locator("h1")).to_contain_text("两员")
    assert charts_drawn(desktop) == ["true"]
    screenshot(desktop, "organisation-subsidies")

    reduction_before = due.reduction_amount
    desktop.goto(f"{live_server.url}/supervision/subsidies/{due.pk}/")
    expect(desktop.locator(".badge.bad").first).to_be_visible()
    # A reduction beyond what was earned less what was paid is refused by the server, in Chinese, after asking.
    asked: list[str] = []
    desktop.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    desktop.fill("#id_reduction_amount", "99999.00")
    desktop.fill("#id_reason", "复查退回重登")
    desktop.select_option("#id_approver", index=1)
    desktop.locator("form[action$='/reduce/'] button[type=submit]").click()
    expect(desktop.locator("form[action$='/reduce/'] .errorlist")).to_contain_text("核减金额不能超过")
    assert asked, "the reduction asks before it is sent"
    due.refresh_from_db()
    assert due.reduction_amount == reduction_before
    # Paying what is outstanding.
    desktop.fill("#id_amount", str(due.outstanding))
    desktop.fill("#id_paid_on", "2021-01-20")
    desktop.fill("#id_reference", "浏览器测试-001")
    desktop.locator("form[action$='/pay/'] button[type=submit]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    expect(desktop.locator("#outstanding")).to_contain_text("0.00")
    due.refresh_from_db()
    assert due.outstanding == 0 and due.payments.filter(reference="浏览器测试-001").exists()

    # The payment sheet of the township, built as a job.
    desktop.goto(f"{live_server.url}/supervision/subsidies/")
    desktop.select_option("#id_township", office.township_id)
    desktop.click("form[action$='/subsidies/sheet/'] button[type=submit]")
    desktop.wait_for_url("**/jobs/*/")
    job = Job.objects.get(kind="organisation_subsidy_sheet")
    job_run(job.pk)  # no worker in the test; the page watches the job's row
    desktop.reload()
    link = desktop.locator("a[href$='/download/']")
    expect(link).to_be_visible()
    with desktop.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"subsidy-sheet-{office.township_id}.xlsx"
