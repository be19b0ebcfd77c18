"""Issue 24 at 360 px: the respondent's form (``/self/<code>/``, a new browser context, no login) shows only the
items that apply, as the paper form routes them, with the enumerator's own skip logic (static/js/skip-logic.js).

The expected routing is written out here from the 2020 reference (docs: /work/shared/domain/census-2020-reference.md
§2.2), not read from the script: H5 = 2–5 skips H6/H7; D7 = 5 and D8 = 4 ask where (the county); D8 = 5 (户口待定)
skips D9–D10; D9 = 1 (never left) skips D10; D11 is asked from age 3 (born 2017-10 or earlier), D12 from age 15
(born 2005-10 or earlier). An item that stopped applying is not sent with the answers."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from enumeration.self_enumeration.models import Invitation
from enumeration.self_enumeration.services import draft_persons, invitation_issue, respondent_household_save
from enumeration.services import household_list
from tests.browser.conftest import PHONE
from tests.browser.pages import check_page
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUSEHOLD_ITEMS = ("H1", "H2", "H3", "H4", "H5")


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*rl:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def respondent(browser: Browser) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", device_scale_factor=1)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def shown(page: Page, *items: str) -> None:
    for item in items:
        expect(page.locator(f'fieldset[data-item="{item}"]'), item).to_be_visible()


def hidden(page: Page, *items: str) -> None:
    for item in items:
        expect(page.locator(f'fieldset[data-item="{item}"]'), item).to_be_hidden()


def invited(cast: Cast) -> tuple[Invitation, str]:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=2)
    issued = invitation_issue(household=household, actor=cast.enumerator_a1)
    return issued.invitation, issued.code


def test_the_household_items_follow_h5(live_server: Any, respondent: Page, cast: Cast) -> None:
    invitation, code = invited(cast)
    page = respondent
    page.goto(f"{live_server.url}/self/{code}/household/")
    shown(page, *HOUSEHOLD_ITEMS)
    residence = page.locator("#hh_h5_residence_type")
    residence.select_option("1")  # an ordinary dwelling: floor area and rooms
    shown(page, "H6", "H7")
    page.fill("#hh_h6_floor_area", "80")
    page.fill("#hh_h7_rooms", "3")
    check_page(page, phone=True, where="the respondent's household items, H5 = 1")
    for other in ("2", "3", "4", "5"):  # collective quarters, a workplace, other, none: no H6/H7
        residence.select_option(other)
        hidden(page, "H6", "H7")
        shown(page, *HOUSEHOLD_ITEMS)
    check_page(page, phone=True, where="the respondent's household items, H5 = 5")
    # Saved with H5 = 5: the floor area typed before is not sent.
    page.select_option("#hh_h1_kind", "1")
    page.click("main form button.primary")
    expect(page.locator("#respondent-home")).to_be_visible()
    invitation.refresh_from_db()
    saved = invitation.draft["household"]
    assert (saved["h1_kind"], saved["h5_residence_type"], saved["h6_floor_area"], saved["h7_rooms"]) == (
        1,
        5,
        None,
        None,
    )
    # Opened again: what the answers say applies, and no more.
    page.goto(f"{live_server.url}/self/{code}/household/")
    hidden(page, "H6", "H7")
    page.select_option("#hh_h5_residence_type", "1")
    shown(page, "H6", "H7")


def test_the_person_items_follow_the_answers_as_the_paper_form_routes_them(
    live_server: Any, respondent: Page, cast: Cast
) -> None:
    invitation, code = invited(cast)
    respondent_household_save(invitation=invitation, data={"h1_kind": 1, "h2_present": 2, "h2_away": 0})
    page = respondent
    page.goto(f"{live_server.url}/self/{code}/persons/1/")
    shown(page, "D1", "D2", "D3", "D4", "D5", "D6", "D7", "D8")
    # No birth date yet: the age-bound items wait for it.
    hidden(page, "D11", "D12")
    page.fill("#p_d5_birth_year", "2017")
    page.select_option("#p_d5_birth_month", "10")  # 3 on 2020-11-01
    shown(page, "D11")
    hidden(page, "D12")
    page.select_option("#p_d5_birth_month", "11")  # born 2017-11: not yet 3
    hidden(page, "D11", "D12")
    page.fill("#p_d5_birth_year", "2005")
    page.select_option("#p_d5_birth_month", "11")  # 14 on 2020-11-01
    shown(page, "D11")
    hidden(page, "D12")
    page.select_option("#p_d5_birth_month", "10")  # 15 on 2020-11-01
    shown(page, "D11", "D12")

    # D7: where they lived on 2020-11-01; another county (5) asks which.
    county = page.locator("#p_d7_residence_county")
    for code_, asks in (("5", True), ("1", False), ("4", False)):
        page.select_option("#p_d7_residence", code_)
        if asks:
            expect(county).to_be_visible()
        else:
            expect(county).to_be_hidden()

    # D8: where the hukou is; another county (4) asks which; 户口待定 (5) skips D9–D10.
    hidden(page, "D9", "D10")  # D8 not answered yet
    hukou_county = page.locator("#p_d8_hukou_county")
    page.select_option("#p_d8_hukou_place", "4")
    expect(hukou_county).to_be_visible()
    shown(page, "D9")
    page.select_option("#p_d9_away_duration", "3")  # away half a year to a year: why
    shown(page, "D10")
    page.select_option("#p_d10_away_reason", "1")
    page.select_option("#p_d8_hukou_place", "5")
    expect(hukou_county).to_be_hidden()
    hidden(page, "D9", "D10")
    page.select_option("#p_d8_hukou_place", "1")
    shown(page, "D9", "D10")
    page.select_option("#p_d9_away_duration", "1")  # never left the place of registration: no reason
    hidden(page, "D10")
    check_page(page, phone=True, where="the respondent's person page")

    # Saved: D10, answered before D9 = 1 made it not apply, is not sent; the rest is.
    page.fill("#p_d1_name", "王伟")
    page.select_option("#p_d2_relationship", "0")
    page.select_option("#p_d4_sex", "1")
    page.fill("#p_d6_ethnicity", "汉族")
    page.select_option("#p_d11_education", "5")
    page.select_option("#p_d12_literate", "1")
    page.click("main form button.primary")
    expect(page.locator("#respondent-home")).to_be_visible()
    invitation.refresh_from_db()
    (person,) = draft_persons(invitation)
    assert (person["d8_hukou_place"], person["d9_away_duration"], person["d10_away_reason"]) == (1, 1, None)
    assert (person["d5_birth_year"], person["d5_birth_month"], person["d11_education"]) == (2005, 10, 5)
    assert person["d7_residence_county"] in (None, "") and person["d8_hukou_county"] in (None, "")


def test_a_collective_household_is_not_asked_the_relationship_to_a_head(
    live_server: Any, respondent: Page, cast: Cast
) -> None:
    """The enumerator's form asks D2 only in a family household (H1 = 1); the respondent's form follows it."""
    invitation, code = invited(cast)
    respondent_household_save(invitation=invitation, data={"h1_kind": 2, "h2_present": 2, "h2_away": 0})
    respondent.goto(f"{live_server.url}/self/{code}/persons/1/")
    hidden(respondent, "D2")
    shown(respondent, "D1", "D3", "D4", "D5", "D6", "D7", "D8")
