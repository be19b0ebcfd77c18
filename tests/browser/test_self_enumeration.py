"""Done when (issue 24): at 360 px, the enumerator issues an invitation; the respondent (a new browser context, no
login) fills in a 3-person household across two visits with the same code and declares it; the enumerator
corrects one item and signs; the supervisor sees the diff."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
import redis
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from enumeration.identity import make_id_number
from enumeration.models import CollectionMode, Household, HouseholdState
from enumeration.self_enumeration.models import Declaration
from enumeration.services import household_list
from enumeration.verification import verify_small_area
from tests.browser.conftest import PHONE, log_in, screenshot
from tests.browser.pages import check_page
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONS = [
    # name, relationship, ID number, education, literate (None: not asked)
    ("王伟", "0", make_id_number("511502", datetime.date(1980, 5, 12), 11), "4", "1"),
    ("李芳", "1", make_id_number("511502", datetime.date(1982, 3, 8), 22), "5", "1"),
    ("王小明", "2", make_id_number("511502", datetime.date(2010, 9, 1), 33), "3", None),
]


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*rl:*", count=1000))
    if keys:
        client.delete(*keys)


def respondent_page(browser: Browser) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(15_000)
    return context, context.new_page()


def fill_person(page: Page, row: int, name: str, relationship: str, id_number: str, education: str, lit: Any) -> None:
    with translation.override("zh-hans"):
        title = translation.gettext("Person %(n)s") % {"n": row}
    expect(page.locator("h1")).to_have_text(title)
    page.fill("#p_d1_name", name)
    page.select_option("#p_d2_relationship", relationship)
    page.fill("#p_d3_id_number", id_number)
    page.select_option("#p_d4_sex", "1" if int(id_number[16]) % 2 else "2")
    page.fill("#p_d5_birth_year", id_number[6:10])
    page.select_option("#p_d5_birth_month", str(int(id_number[10:12])))
    page.fill("#p_d6_ethnicity", "汉族")
    page.select_option("#p_d7_residence", "1")
    page.select_option("#p_d8_hukou_place", "1")
    page.select_option("#p_d9_away_duration", "1")
    page.select_option("#p_d11_education", education)
    if lit is not None:
        page.select_option("#p_d12_literate", lit)


def test_invite_fill_in_two_visits_declare_verify_correct_sign_and_see_the_diff(
    live_server: Any, browser: Browser, phone: Page, desktop: Page, cast: Cast, password: str
) -> None:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)

    # The enumerator invites the household and gets the slip.
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    phone.goto(f"{live_server.url}/enumeration/areas/{cast.area_a1.pk}/")
    phone.click("#self-enumeration")
    phone.click(f"tr[data-household='{household.pk}'] button[data-issue]")
    slip = phone.locator("[data-slip]")
    expect(slip).to_contain_text("住户自主填报邀请单")
    check_page(phone, phone=True, where="the slip")
    screenshot(phone, "self-enumeration-slip")
    code = slip.locator("[data-code]").get_attribute("data-code")
    link = slip.locator("[data-slip-url]").get_attribute("href")
    assert code and link and link.endswith(f"/self/{code}/")

    # First visit: a new browser, no login; the code typed from the slip. The household items and two persons.
    context, page = respondent_page(browser)
    page.goto(f"{live_server.url}/self/")
    page.fill("#id_code", "-".join(code[i : i + 4] for i in range(0, 20, 4)).lower())
    page.click("main form button[type=submit]")
    expect(page.locator("#respondent-home")).to_contain_text(household.key)
    check_page(page, phone=True, where="the respondent's start")
    page.click("a[href$='/household/']")
    page.select_option("#hh_h1_kind", "1")
    page.select_option("#hh_h5_residence_type", "1")  # before H6/H7: they are asked of an ordinary dwelling only
    for field, value in (
        ("h2_present", "3"),
        ("h2_away", "0"),
        ("h3_births_male", "0"),
        ("h3_births_female", "0"),
        ("h4_deaths_male", "0"),
        ("h4_deaths_female", "0"),
        ("h6_floor_area", "96"),
        ("h7_rooms", "4"),
    ):
        page.fill(f"#hh_{field}", value)
    check_page(page, phone=True, where="the respondent's household items")
    page.click("main form button.primary")
    page.click("#add-person")
    fill_person(page, 1, *PERSONS[0])
    check_page(page, phone=True, where="the respondent's person page")
    page.click("button[name=add_another]")
    fill_person(page, 2, *PERSONS[1])
    page.click("main form button.primary")
    expect(page.locator("#respondent-persons")).to_contain_text("李芳")
    context.close()

    # Second visit, another day: the slip's link (the QR code) opens the same answers.
    context, page = respondent_page(browser)
    page.goto(link)
    expect(page.locator("#respondent-persons li")).to_have_count(2)
    page.click("#add-person")
    fill_person(page, 3, *PERSONS[2])
    page.click("main form button.primary")
    page.click("#to-review")
    expect(page.locator("#respondent-review")).to_contain_text("王小明")
    page.fill("#declare_name", "李芳")
    page.select_option("#declare_relationship", "1")
    page.check("#declare_confirm")
    check_page(page, phone=True, where="the respondent's read-back")
    screenshot(page, "self-enumeration-respondent-readback")
    page.click("#declare")
    declaration = Declaration.objects.get(household=household)
    expect(page.locator("#confirmation-no")).to_have_text(declaration.confirmation_no)
    check_page(page, phone=True, where="the confirmation")
    context.close()
    household.refresh_from_db()
    assert household.state == HouseholdState.LISTED  # not counted: nothing signed

    # The enumerator verifies with the household: H7 is 5 rooms, not 4; then signs.
    phone.goto(f"{live_server.url}/enumeration/my-areas/")
    phone.click("#self-to-verify a")
    phone.click("#take-up")
    expect(phone.locator("#no-changes")).to_be_visible()
    phone.click("#correct")
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()
    phone.locator('[data-step="household"] [data-field=h7_rooms]').fill("5")
    phone.locator('[data-step="household"] [data-field=h7_rooms]').blur()
    # The form sends the change to the server on its own (issue 19): wait until the server has it.
    deadline = time.monotonic() + 20
    while Household.objects.get(pk=household.pk).h7_rooms != 5:
        assert time.monotonic() < deadline, "the correction never reached the server"
        phone.wait_for_timeout(250)
    phone.goto(f"{live_server.url}/enumeration/self/households/{household.pk}/")
    expect(phone.locator("#changes tr[data-change='household']")).to_contain_text("4")
    phone.fill("#sign_password", password)
    check_page(phone, phone=True, where="the verification page")
    screenshot(phone, "self-enumeration-verification")
    phone.click("#sign")
    household.refresh_from_db()
    assert (household.state, household.collection_mode) == (HouseholdState.SIGNED, CollectionMode.SELF)
    assert verify_small_area(cast.area_a1) == []
    phone.goto(f"{live_server.url}/enumeration/self/areas/{cast.area_a1.pk}/")
    expect(phone.locator(f"tr[data-household='{household.pk}']")).to_have_attribute("data-status", "verified")
    check_page(phone, phone=True, where="the area's invitations")

    # The supervisor sees the change against the declaration.
    log_in(desktop, live_server.url, cast.supervisor_a.username, password)
    desktop.goto(f"{live_server.url}/enumeration/households/{household.pk}/")
    desktop.click("#self-declaration")
    row = desktop.locator("#changes tr[data-change='household']")
    expect(row).to_contain_text("H7")
    expect(row.locator("td").nth(1)).to_have_text("4")
    expect(row.locator("td").nth(2)).to_have_text("5")
    assert Household.objects.get(pk=household.pk).current_signature is not None
    # The uptake page: invited 1, started 1, declared 1, verified 1 in the small area.
    desktop.goto(f"{live_server.url}/enumeration/self/uptake/")
    cells = desktop.locator(f"tr[data-area='{cast.area_a1.code}'] td")
    expect(cells.nth(5)).to_have_text("1")
    check_page(desktop, phone=False, where="the uptake page")
