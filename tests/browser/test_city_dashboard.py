"""The city office's page in Chromium at 360 and 1366 px: axe-core finds no critical or serious violation, the
page is no wider than a phone's screen (the districts' table scrolls inside its own box), and it shows the
demo district's figures — counted here from the aggregates it reads, and from the households themselves."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser

from census.staffing.services import city_office_create
from enumeration.models import Household
from supervision.progress.services import progress_refresh
from tests.browser.fixtures import DESKTOP, PHONE, log_in
from tests.browser.pages import axe_serious, overflow_x

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "city-office-2020-秋"


def test_the_city_dashboard_passes_axe_and_fits_a_phone(live_server, browser: Browser) -> None:  # type: ignore[no-untyped-def]
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())
    progress_refresh()
    member = city_office_create(city_code="5115", city_name="宜宾市", username="yibin_city")
    member.set_password(PASSWORD)
    member.must_change_password = False
    member.save()
    households = Household.objects.count()
    problems: list[str] = []
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1)
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            log_in(page, live_server.url, "yibin_city", PASSWORD)
            assert page.url.endswith("/supervision/progress/city/")
            cell = page.locator('tr[data-district="total"] td[data-column="households"]').inner_text()
            assert int(cell.replace(",", "")) == households
            problems += [f"[{viewport['width']} px] {violation}" for violation in axe_serious(page)]
            if viewport is PHONE and overflow_x(page) > 0:
                problems.append(f"[360 px] {overflow_x(page)}px wider than the screen")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
