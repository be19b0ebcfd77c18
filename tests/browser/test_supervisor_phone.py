"""The supervisor on a 360-px phone (issue 21, item 10): the review queue fits the screen as cards whose links are
44 px tall; a household's form and its checks come before the approve and return buttons; the return form's items
are grouped by person; the form's version says what it counts."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from enumeration.models import Household, HouseholdState
from tests.browser.conftest import log_in, screenshot
from tests.browser.pages import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"


@pytest.fixture
def district() -> None:
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())


def test_a_supervisor_reviews_a_household_on_a_phone(live_server, phone: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    log_in(phone, live_server.url, "supervisor", DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/enumeration/review/")
    check_page(phone, phone=True)
    rows = phone.locator("table.queue tbody tr")
    assert rows.count() > 1
    first = rows.first.locator("td.card-title a")
    box = first.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
    screenshot(phone, "supervisor-queue-phone")

    # The largest household waiting in the queue: the longest list of items to return.
    waiting = Household.objects.filter(
        state=HouseholdState.SIGNED, registrar__supervision__supervisor__username="supervisor"
    )
    household = max(waiting, key=lambda h: h.persons.count())
    assert household.persons.count() >= 3
    phone.goto(f"{live_server.url}/enumeration/households/{household.pk}/")
    check_page(phone, phone=True)
    # Read first, then decide: the form and its checks are above the buttons.
    form_top = phone.locator("#readback-title").bounding_box()["y"]  # type: ignore[index]
    checks_top = phone.locator("#issues-title").bounding_box()["y"]  # type: ignore[index]
    approve_top = phone.locator("button[data-action=approve]").bounding_box()["y"]  # type: ignore[index]
    assert form_top < approve_top and checks_top < approve_top
    # The version says what it counts, not "版本 13".
    saved = phone.locator("dl.markings dd").nth(6).inner_text()
    assert saved.strip() != str(household.version) and str(household.version) in saved
    # The items to return are grouped: the household's, then person by person.
    groups = phone.locator("select[name=item_1] optgroup")
    persons = household.persons.count()
    assert groups.count() >= 1 + persons
    largest = max(groups.nth(i).locator("option").count() for i in range(groups.count()))
    total = phone.locator("select[name=item_1] option").count()
    assert largest <= 20 < total, f"one group holds {largest} of {total} items"
    screenshot(phone, "supervisor-household-phone")

    # Return it with a comment on the second person's birth month.
    phone.select_option("select[name=item_1]", "D5@2")
    phone.fill("input[name=text_1]", "请核实出生年月")
    phone.locator("button[data-action=return]").click()
    expect(phone.locator(".messages .message.success")).to_be_visible()
    household.refresh_from_db()
    assert household.state == HouseholdState.RETURNED
