"""Trainings in the browser: the district sees the quarter a department missed; a department records a training
on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from supervision.organisation.models import Training
from tests.browser.conftest import log_in, screenshot
from tests.organisation.browser import DEMO_PASSWORD, charts_drawn, fits, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo(settings, tmp_path)


def test_the_missed_quarter_is_flagged_and_a_department_records_a_training(
    live_server, desktop: Page, phone: Page, demo: None
) -> None:  # type: ignore[no-untyped-def]
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/trainings/?year=2021")
    expect(desktop.locator("#missed")).to_contain_text("2021 Q2")
    expect(desktop.locator("#missed")).to_contain_text("发改局")
    expect(desktop.locator("td.missed").first).to_be_visible()
    assert charts_drawn(desktop) == ["true"]
    screenshot(desktop, "organisation-trainings")

    before = Training.objects.count()
    log_in(phone, live_server.url, "department", DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/supervision/trainings/")
    phone.click("main details summary")
    phone.fill("#id_held_on", "2021-05-12")
    phone.fill("#id_topic", "规上工业统计报表制度培训")
    phone.fill("#id_trainees", "48")
    phone.locator("main form[method=post] button[type=submit]").click()
    expect(phone.locator(".message.success")).to_be_visible()
    assert Training.objects.count() == before + 1
    fits(phone, 360)
    # The study-session tab shows that department's sessions only.
    phone.click("nav.tabs a[href$='/study-sessions/']")
    expect(phone.locator("h1")).to_contain_text("培训")
    assert charts_drawn(phone) == ["true"]
