"""Staffing in the browser (issue 20): a township office imports its new 两员 from a spreadsheet, hands a small area
over to one of them, prints their credentials; the new enumerator signs in on a phone with the one-time password
from the sheet, must choose a password, and then sees exactly the area handed over; a household scanning the
credential's QR code learns that it is valid. The README's tour gets its screenshots."""

from __future__ import annotations

import io
import re

import pytest
import tablib
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from census.jobs import job_run
from census.models import Job, SmallArea, SmallAreaAssignment, StaffMember
from census.staffing.credentials import CREDENTIALS_JOB
from census.staffing.imports import STAFF_IMPORT_JOB
from enumeration.models import Household
from tests.browser.conftest import log_in, screenshot
from tests.census.factories import staff_id_number
from tests.census.test_staffing_credentials import pdf_texts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
NEW_PASSWORD = "minjiang-river-2020"


@pytest.fixture
def district(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The demo's synthetic district, small."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    call_command("seed_district", persons=12000, seed=11, stdout=io.StringIO())


def staff_workbook(path: str) -> None:
    """The office's spreadsheet: two new enumerators and a supervisor, headed as the template is."""
    sheet = tablib.Dataset(
        headers=["姓名", "公民身份号码", "手机号码", "角色", "来源单位", "选聘日期", "培训日期", "考试成绩"]
    )
    sheet.append(["李新", staff_id_number(101), "13512340001", "普查员", "镇中心小学", "2020-08-20", "2020-09-25", 91])
    sheet.append(
        ["王晓燕", staff_id_number(102), "13512340002", "普查员", "社区居委会", "2020-08-20", "2020-09-25", 88]
    )
    sheet.append(
        ["陈立", staff_id_number(103), "13512340003", "普查指导员", "镇人民政府", "2020-08-18", "2020-09-25", 95]
    )
    with open(path, "wb") as handle:
        handle.write(sheet.export("xlsx"))


def test_an_office_staffs_an_area_and_the_new_enumerator_signs_in(  # type: ignore[no-untyped-def]
    live_server, desktop: Page, phone: Page, district: None, tmp_path
) -> None:
    office = StaffMember.objects.get(username="township")
    township = office.township_id
    log_in(desktop, live_server.url, "township", DEMO_PASSWORD)

    # The staff list, from the navigation.
    desktop.click("nav.topnav a[href='/frame/staff/']")
    expect(desktop.locator("h1")).to_have_text("人员")  # "Staff", in the default language
    screenshot(desktop, "staff-list")

    # Import: upload the spreadsheet; the import runs as a job and the page shows its report.
    workbook = str(tmp_path / "两员名单.xlsx")
    staff_workbook(workbook)
    desktop.click("a[href='/frame/staff/import/']")
    desktop.set_input_files("#id_file", workbook)
    desktop.click("#import-form button[type=submit]")
    desktop.wait_for_url("**/staff/import/?job=*")
    job_run(Job.objects.get(kind=STAFF_IMPORT_JOB).pk)  # no worker in the test; the page polls the job
    report = desktop.locator("#import-report[data-status=done]")
    expect(report).to_be_visible()
    expect(report.locator('[data-kpi="new"] .value')).to_have_text("3")
    new = StaffMember.objects.get(phone="13512340001")
    assert new.township_id == township and new.username == "13512340001" and new.must_change_password

    # Who works where: hand a small area (with its households not yet signed) over to the new enumerator.
    area = SmallArea.objects.filter(township_id=township).order_by("code").last()
    assert area is not None
    predecessor = SmallAreaAssignment.objects.get(small_area=area).staff
    desktop.goto(f"{live_server.url}/frame/assignments/")
    expected = Household.objects.filter(small_area=area).count()
    row = desktop.locator(f'table[data-table="areas"] tr[data-key="{area.code}"]')
    expect(row.locator('[data-col="expected"]')).to_have_text(str(expected))
    row.locator("input[type=checkbox]").check()
    desktop.select_option("#id_assign_staff", str(new.pk))
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.click("#areas-form button[value=handover]")
    expect(desktop.locator(".message.success")).to_be_visible()
    expect(row.locator('[data-col="staff"]')).to_contain_text("李新")
    assert list(SmallAreaAssignment.objects.filter(small_area=area).values_list("staff", flat=True)) == [new.pk]
    workers = desktop.locator('table[data-table="workers"] tr[data-key="13512340001"]')
    expect(workers.locator('[data-col="households"]')).to_have_text(str(expected))
    screenshot(desktop, "staff-assignments")
    assert predecessor.pk != new.pk

    # Print the credentials of the three new people (ticked for they still have a one-time password).
    desktop.goto(f"{live_server.url}/frame/staff/credentials/")
    ticked = desktop.locator('table[data-table="credentials"] input[type=checkbox]:checked')
    expect(ticked).to_have_count(3)
    desktop.click("#credentials-form button[type=submit]")
    desktop.wait_for_url("**/jobs/*/")
    job_run(Job.objects.get(kind=CREDENTIALS_JOB).pk)
    desktop.reload()
    link = desktop.locator("a[href$='/download/']")
    expect(link).to_be_visible()
    with desktop.expect_download() as download:
        link.click()
    pdf = open(download.value.path(), "rb").read()  # noqa: SIM115
    texts = pdf_texts(pdf)
    # Each page's slip: the login name, then the one-time password (the labels between are Chinese).
    after = texts[texts.index("13512340001") + 1 :]
    one_time = next(t for t in after if re.fullmatch(r"[2-9a-hjkmnp-z]{10}", t))

    # The new enumerator, on a phone: the one-time password opens the password page only.
    log_in(phone, live_server.url, "13512340001", one_time)
    expect(phone.locator("#password-change")).to_be_visible()
    phone.goto(live_server.url + reverse("enumeration:my-areas"))
    expect(phone.locator("#password-change")).to_be_visible()
    screenshot(phone, "staff-first-login")
    phone.fill("#id_current_password", one_time)
    phone.fill("#id_new_password1", NEW_PASSWORD)
    phone.fill("#id_new_password2", NEW_PASSWORD)
    phone.click("#password-change button[type=submit]")
    phone.wait_for_load_state("networkidle")
    # … and then sees exactly the area handed over.
    body = phone.locator("main").inner_text()
    assert area.code in body
    others = SmallArea.objects.exclude(pk=area.pk).values_list("code", flat=True)
    assert not [code for code in others if code in body]
    new.refresh_from_db()
    assert not new.must_change_password

    # A household scans the credential's QR code: no account needed.
    phone.context.clear_cookies()
    phone.goto(f"{live_server.url}/frame/credentials/check/{new.credential_key}/")
    expect(phone.locator('[data-valid="true"]')).to_be_visible()
    expect(phone.locator("#credential-check")).to_contain_text("李*")
    screenshot(phone, "credential-check")
