"""四落实 and 知晓率 in the browser: the district office on a phone sees the overdue units and the charts, and a
township office marks an item done with its document."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from census.models import StaffMember
from supervision.organisation.models import ReadinessComponent, ReadinessItem, ReadinessStatus, UnitReadiness
from tests.browser.conftest import log_in, screenshot
from tests.organisation.browser import DEMO_PASSWORD, charts_drawn, fits, pdf_file, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo(settings, tmp_path)


def test_the_district_sees_the_overdue_units_and_the_township_marks_an_item_done(
    live_server, phone: Page, desktop: Page, demo: None
) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    phone.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    phone.on("pageerror", lambda error: problems.append(str(error)))
    log_in(phone, live_server.url, "district", DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/supervision/readiness/")
    expect(phone.locator("h1")).to_contain_text("四落实")
    overdue = phone.locator("#overdue tbody tr")
    expect(overdue.first).to_be_visible()
    assert overdue.count() >= 3
    assert charts_drawn(phone) == ["true"]
    fits(phone, 360)
    screenshot(phone, "organisation-readiness-phone")

    # The awareness page, one tap away, draws its chart too.
    phone.click("main a[href$='/supervision/awareness/']")
    expect(phone.locator("h1")).to_contain_text("知晓率")
    assert charts_drawn(phone) == ["true"]
    fits(phone, 360)
    # ECharts and the page script run under the Content-Security-Policy without complaint.
    assert problems == [], problems

    # The township office of the first township opens one of its units that is not ready.
    office = StaffMember.objects.get(username="township")
    unit = UnitReadiness.objects.filter(township_id=office.township_id, ready_on__isnull=True).first()
    assert unit is not None, "the sample data leaves units of the demo township behind"
    item = unit.items.exclude(status=ReadinessStatus.DONE).exclude(component=ReadinessComponent.ORGANISATION).first()
    assert item is not None
    log_in(desktop, live_server.url, "township", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/readiness/{unit.pk}/")
    card = desktop.locator(f"#item-{item.component}")
    card.locator("summary").click()
    # A date without a document is refused, with the reason next to the field.
    card.locator("select[name$=status]").select_option("done")
    card.locator("input[name$=completed_on]").fill("2020-06-20")
    card.locator("details button[type=submit]").click()
    expect(desktop.locator(f"#item-{item.component} .errorlist")).to_contain_text("上传")
    item.refresh_from_db()
    assert item.status != ReadinessStatus.DONE
    card = desktop.locator(f"#item-{item.component}")
    card.locator("select[name$=status]").select_option("done")
    card.locator("input[name$=completed_on]").fill("2020-06-20")
    card.locator("input[type=file]").set_input_files(pdf_file("funds.pdf"))
    card.locator("details button[type=submit]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    expect(desktop.locator(f"#item-{item.component} .row .badge")).to_have_text(re.compile("完成"))
    expect(desktop.locator(f"#item-{item.component} a.evidence-link")).to_have_text("funds.pdf")
    item.refresh_from_db()
    assert item.status == ReadinessStatus.DONE and item.evidence is not None
    assert ReadinessItem.objects.filter(pk=item.pk, evidence__original_name="funds.pdf").exists()
    screenshot(desktop, "organisation-readiness-unit")
