"""谁普查、谁负责 in the browser: an enumerator finds their open findings first on their start page and clears one
with a signed explanation; their supervisor accepts it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from census.models import StaffMember, SupervisorAssignment
from supervision.quality.models import Finding
from supervision.quality.selectors import my_findings_summary
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"


@pytest.fixture
def checked_district(tmp_path) -> Finding:  # type: ignore[no-untyped-def]
    call_command(
        "seed_district", persons=3000, seed=8, plant_errors=str(tmp_path / "manifest.json"), stdout=io.StringIO()
    )
    call_command("run_checks", full=True, workers=1, stdout=io.StringIO())
    # An enumerator whose start page lists a finding on a household form among the first it shows.
    enumerators = StaffMember.objects.filter(
        pk__in=Finding.objects.filter(state="open", household__isnull=False, responsible__role="enumerator").values(
            "responsible"
        )
    ).order_by("pk")
    for enumerator in enumerators:
        shown = [f for f in my_findings_summary(user=enumerator).first if f.household_id]
        if shown:
            return Finding.objects.select_related("responsible").get(pk=shown[0].pk)
    raise AssertionError("no enumerator's start page shows a household finding")


def test_an_enumerator_sees_their_findings_first_and_clears_one(  # type: ignore[no-untyped-def]
    live_server, phone: Page, browser, checked_district: Finding
) -> None:
    finding = checked_district
    enumerator = finding.responsible
    assert enumerator is not None
    log_in(phone, live_server.url, enumerator.username, DEMO_PASSWORD)
    # The start page (their small areas) opens with their open findings.
    summary = phone.locator("#my-findings-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("我的质量问题")
    link = f"a[href='/supervision/quality/findings/{finding.pk}/']"
    expect(summary.locator(link)).to_be_visible()
    screenshot(phone, "quality-start-page")

    summary.locator(link).first.click()
    expect(phone.locator("#finding-state")).to_have_text("未办结")
    phone.fill("#id_explanation", "已入户核实：记录与户口簿一致，无需更正。")
    phone.fill("#id_password", "wrong-password")
    phone.click("#explain-form button[type=submit]")
    expect(phone.locator("#explain-form")).to_contain_text("密码错误")
    phone.fill("#id_password", DEMO_PASSWORD)
    phone.click("#explain-form button[type=submit]")
    expect(phone.locator(".message.success")).to_contain_text("说明已签署")
    finding.refresh_from_db()
    assert finding.state == "explained" and finding.explained_by == enumerator
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360-px phone"
    screenshot(phone, "quality-my-findings")

    # The supervisor accepts the explanation on a desktop.
    supervisor = StaffMember.objects.get(pk=SupervisorAssignment.objects.get(enumerator=enumerator).supervisor_id)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    desktop = context.new_page()
    try:
        log_in(desktop, live_server.url, supervisor.username, DEMO_PASSWORD)
        desktop.goto(f"{live_server.url}/supervision/quality/mine/?show=verify")
        desktop.locator(f"#finding-list {link}").first.click()
        expect(desktop.locator("#finding-explanation")).to_contain_text("已入户核实")
        desktop.click("#verify button.primary")
        expect(desktop.locator("#finding-state")).to_have_text("指导员已核实")
        screenshot(desktop, "quality-finding-verified")
    finally:
        context.close()
    finding.refresh_from_db()
    assert finding.state == "verified" and finding.verified_by == supervisor
