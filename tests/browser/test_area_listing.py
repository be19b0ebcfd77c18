"""The listing (户主姓名底册) on an enumerator's phone (issue 21, items 9 and 12): a household is found by its number
or its head's name, or by what is left to do, without scrolling a 10,000-px page; "add a household" is at the top;
what an action did is in sight when the page opens at the household it did it to; the dwelling unit's label
focuses the dwelling unit's field (no duplicate ids)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from census.models import SmallArea, StaffMember
from enumeration.models import Household, HouseholdState
from tests.browser.conftest import log_in
from tests.browser.pages import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
DONE = (HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED)


@pytest.fixture
def area() -> SmallArea:
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())
    enumerator = StaffMember.objects.get(username="enumerator")
    return SmallArea.objects.filter(assignments__staff=enumerator).order_by("code").first()  # type: ignore[return-value]


def visible_numbers(page: Page) -> list[int]:
    return [int(text) for text in page.locator(".household-register > .register-entry:visible .hno").all_inner_texts()]


def test_an_enumerator_finds_a_household_and_adds_one_from_the_top(live_server, phone: Page, area: SmallArea) -> None:  # type: ignore[no-untyped-def]
    log_in(phone, live_server.url, "enumerator", DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/enumeration/areas/{area.pk}/")
    check_page(phone, phone=True)
    households = list(Household.objects.filter(small_area=area).order_by("household_no"))
    assert len(households) > 10
    assert visible_numbers(phone) == [h.household_no for h in households]

    # By number, and by the head's name.
    wanted = households[len(households) // 2]
    search = phone.locator("[data-register-q]")
    search.fill(f"{wanted.household_no:03d}")
    assert visible_numbers(phone) == [wanted.household_no]
    search.fill(wanted.head_name_listed)
    expected = [h.household_no for h in households if wanted.head_name_listed in h.head_name_listed]
    assert visible_numbers(phone) == expected
    search.fill("")

    # What is left to do: not signed yet (listed, draft, returned).
    phone.locator("[data-register-state]").select_option("todo")
    todo = [h.household_no for h in households if h.state not in DONE]
    assert visible_numbers(phone) == todo
    phone.locator("[data-register-state]").select_option("")

    # "Add a household" is above the register, not below 10,000 px of it.
    add = phone.locator("#add-household")
    register = phone.locator(".household-register")
    assert add.bounding_box()["y"] < register.bounding_box()["y"]  # type: ignore[index]
    add.locator("summary").click()
    phone.fill("#id_head_name", "测试户主")
    phone.fill("#id_expected_persons", "2")
    phone.locator("#add-household button[type=submit]").click()
    phone.wait_for_load_state("networkidle")
    new = Household.objects.filter(small_area=area).order_by("-household_no").first()
    assert new is not None and new.head_name_listed == "测试户主"
    assert phone.url.endswith(f"#h{new.household_no}")
    # The page opened at the new household, far down; the message saying it was added is in sight all the same.
    message = phone.locator(".messages .message.success")
    expect(message).to_be_visible()
    assert phone.evaluate("window.scrollY") > 1000, "the page opened at the new household"
    box = message.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 740, f"the message is off screen: {box}"
    entry = phone.locator(f"#h{new.household_no}").bounding_box()
    assert entry is not None and entry["y"] >= box["y"] + box["height"] - 1, "the message hides the new household"
    message.locator("[data-dismiss]").click()
    expect(phone.locator(".messages .message")).to_have_count(0)


def test_the_listing_page_has_no_duplicate_ids_and_each_label_focuses_its_field(  # type: ignore[no-untyped-def]
    live_server, phone: Page, area: SmallArea
) -> None:
    log_in(phone, live_server.url, "enumerator", DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/enumeration/areas/{area.pk}/")
    duplicates = phone.evaluate(
        """() => { const seen = {}; const twice = [];
           for (const el of document.querySelectorAll('[id]')) { if (seen[el.id]) twice.push(el.id); seen[el.id] = 1; }
           return twice; }"""
    )
    assert not duplicates, duplicates
    phone.locator("#buildings > summary").click()
    phone.locator("#buildings details").last.locator("summary").click()  # "add a dwelling unit"
    label = phone.locator("#buildings form[action$='/units/'] label", has_text="住房单元编号")
    label.click()
    assert phone.evaluate("document.activeElement.name") == "number"
    assert phone.evaluate("document.activeElement.closest('form').action").endswith("/units/")
