"""The phone form's behaviour in Chromium at 360 px: the paper form's skip logic, the ID number filling and
checking D5/D4 at once, autosave surviving a closed browser, a stale copy refused with 409, and thumb-sized
inputs without horizontal scrolling."""

from __future__ import annotations

import datetime
import time

import pytest
from playwright.sync_api import Page, Route, expect

from enumeration.identity import make_id_number
from enumeration.models import Household
from enumeration.services import household_list, household_save
from tests.browser.conftest import log_in
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_form(page: Page, live_server_url: str, cast: Cast, password: str) -> Household:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=1)
    log_in(page, live_server_url, cast.enumerator_a1.username, password)
    page.goto(f"{live_server_url}/enumeration/households/{household.pk}/form/")
    return household


def saved(page: Page) -> None:
    expect(page.locator("[data-save-status]")).to_contain_text("已保存", timeout=10_000)


def test_skip_logic_follows_the_paper_form(live_server, phone: Page, cast: Cast, password: str) -> None:  # type: ignore[no-untyped-def]
    open_form(phone, live_server.url, cast, password)
    panel = phone.locator('[data-step="household"]')
    panel.locator("[data-field=h1_kind]").select_option("1")
    for code in ("2", "3", "4", "5"):
        panel.locator("[data-field=h5_residence_type]").select_option(code)
        expect(panel.locator('fieldset[data-item="H6"]')).to_be_hidden()
        expect(panel.locator('fieldset[data-item="H7"]')).to_be_hidden()
    panel.locator("[data-field=h5_residence_type]").select_option("1")
    expect(panel.locator('fieldset[data-item="H6"]')).to_be_visible()

    panel.locator("[data-next]").click()
    card = phone.locator("[data-person]:visible")
    # Without a birth date, D11 and D12 are not asked yet.
    expect(card.locator('fieldset[data-item="D11"]')).to_be_hidden()
    card.locator("[data-field=d5_birth_year]").fill("2017")
    card.locator("[data-field=d5_birth_month]").select_option("10")  # 3 at the reference moment
    expect(card.locator('fieldset[data-item="D11"]')).to_be_visible()
    expect(card.locator('fieldset[data-item="D12"]')).to_be_hidden()
    card.locator("[data-field=d5_birth_month]").select_option("11")  # born 2017-11: not yet 3
    expect(card.locator('fieldset[data-item="D11"]')).to_be_hidden()
    card.locator("[data-field=d5_birth_year]").fill("2005")
    card.locator("[data-field=d5_birth_month]").select_option("10")  # 15 at the reference moment
    expect(card.locator('fieldset[data-item="D12"]')).to_be_visible()

    card.locator("[data-field=d7_residence]").select_option("5")
    expect(card.locator("[data-field=d7_residence_county]")).to_be_visible()
    card.locator("[data-field=d7_residence]").select_option("1")
    expect(card.locator("[data-field=d7_residence_county]")).to_be_hidden()

    card.locator("[data-field=d8_hukou_place]").select_option("5")  # 户口待定 skips D9–D10
    expect(card.locator('fieldset[data-item="D9"]')).to_be_hidden()
    expect(card.locator('fieldset[data-item="D10"]')).to_be_hidden()
    card.locator("[data-field=d8_hukou_place]").select_option("2")
    card.locator("[data-field=d9_away_duration]").select_option("3")
    expect(card.locator('fieldset[data-item="D10"]')).to_be_visible()
    card.locator("[data-field=d9_away_duration]").select_option("1")  # never left: D10 skipped
    expect(card.locator('fieldset[data-item="D10"]')).to_be_hidden()

    # A collective household has no head: D2 is not asked.
    phone.locator('[data-step-link="household"]').click()
    panel.locator("[data-field=h1_kind]").select_option("2")
    phone.locator('[data-step-link="persons"]').click()
    expect(phone.locator("[data-person]:visible fieldset[data-item='D2']")).to_be_hidden()
    saved(phone)


def test_the_id_number_fills_birth_and_sex_and_a_mismatch_shows_at_once(
    live_server, phone: Page, cast: Cast, password: str
) -> None:  # type: ignore[no-untyped-def]
    open_form(phone, live_server.url, cast, password)
    phone.locator('[data-step="household"] [data-field=h1_kind]').select_option("1")
    phone.locator('[data-step="household"] [data-next]').click()
    card = phone.locator("[data-person]:visible")
    number = make_id_number("511502", datetime.date(1990, 7, 15), 24)  # even sequence: female
    card.locator("[data-field=d3_id_number]").fill(number[:10])
    expect(card.locator("fieldset[data-item=D3] [data-check]")).to_contain_text("尚未填完")
    card.locator("[data-field=d3_id_number]").fill(number)
    assert card.locator("[data-field=d5_birth_year]").input_value() == "1990"
    assert card.locator("[data-field=d5_birth_month]").input_value() == "7"
    assert card.locator("[data-field=d4_sex]").input_value() == "2"
    card.locator("[data-field=d4_sex]").select_option("1")
    expect(card.locator("fieldset[data-item=D4] [data-check]")).to_contain_text("身份证号码显示性别为女")
    card.locator("[data-field=d5_birth_year]").fill("1991")
    expect(card.locator("fieldset[data-item=D5] [data-check]")).to_contain_text("出生于1990-07")
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    card.locator("[data-field=d3_id_number]").fill(wrong)
    expect(card.locator("fieldset[data-item=D3] [data-check]")).to_contain_text("校验码不正确")
    # The server repeats the checks: the rules' issues come back with the save.
    saved(phone)
    expect(phone.locator("[data-issues-list]")).to_contain_text("D3 公民身份号码")


def test_what_was_typed_survives_closing_the_browser(live_server, phone: Page, cast: Cast, password: str) -> None:  # type: ignore[no-untyped-def]
    household = open_form(phone, live_server.url, cast, password)
    panel = phone.locator('[data-step="household"]')
    panel.locator("[data-field=h1_kind]").select_option("1")
    panel.locator("[data-field=h2_present]").fill("4")
    # Closed before the autosave's pause is over: the page sends what is pending as it goes (keepalive).
    phone.close(run_before_unload=True)
    for _ in range(50):
        household.refresh_from_db()
        if household.h2_present == 4:
            break
        time.sleep(0.1)
    assert household.h1_kind == 1 and household.h2_present == 4 and household.state == "draft"


def test_what_was_typed_before_the_script_ran_is_kept_and_saved(
    live_server, phone_on_the_network: Page, cast: Cast, password: str
) -> None:  # type: ignore[no-untyped-def]
    """A slow phone: the form is on the screen and typed into before its script has arrived (from the network:
    a phone that has the script in its service worker's cache does not wait for it)."""
    phone = phone_on_the_network
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=1)
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)

    phone.route(lambda url: "enumeration-form" in url, hold)
    phone.goto(f"{live_server.url}/enumeration/households/{household.pk}/form/", wait_until="commit")
    present = phone.locator('[data-step="household"] [data-field=h2_present]')
    present.fill("4")
    for _ in range(50):
        if held:
            break
        phone.wait_for_timeout(100)
    assert held, "the form's script was never asked for"
    expect(phone.locator("#household-form[data-ready]")).not_to_be_attached()
    held[0].continue_()
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()
    expect(present).to_have_value("4")
    # Wait in the browser's terms: while this thread sleeps, routed requests (the autosave) wait for it.
    for _ in range(50):
        if Household.objects.get(pk=household.pk).h2_present == 4:
            break
        phone.wait_for_timeout(200)
    assert Household.objects.get(pk=household.pk).h2_present == 4


def test_a_stale_copy_is_refused_and_overwrites_nothing(live_server, phone: Page, cast: Cast, password: str) -> None:  # type: ignore[no-untyped-def]
    household = open_form(phone, live_server.url, cast, password)
    panel = phone.locator('[data-step="household"]')
    panel.locator("[data-field=h1_kind]").select_option("1")
    saved(phone)
    # Meanwhile the same form is changed elsewhere (another device of the registrar).
    household.refresh_from_db()
    household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data={"h2_present": 7},
        persons=[],
    )
    panel.locator("[data-field=h2_present]").fill("2")
    conflict = phone.locator("[data-conflict]")
    expect(conflict).to_be_visible(timeout=10_000)
    expect(conflict).to_contain_text("有人修改了此户")
    household.refresh_from_db()
    assert household.h2_present == 7
    conflict.locator("a.button").click()
    expect(phone.locator('[data-step="household"] [data-field=h2_present]')).to_have_value("7")


def test_the_pages_fit_a_phone_with_thumb_sized_inputs(live_server, phone: Page, cast: Cast, password: str) -> None:  # type: ignore[no-untyped-def]
    household = open_form(phone, live_server.url, cast, password)
    heights = phone.evaluate(
        "Array.from(document.querySelectorAll('#household-form [data-field]'))"
        ".filter(el => el.offsetParent !== null).map(el => el.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 44, heights
    modes = phone.evaluate(
        "Array.from(document.querySelectorAll('[data-step=household] input[data-kind=number]')).map(el => el.inputMode)"
    )
    assert set(modes) == {"numeric"}
    for path in (
        f"/enumeration/households/{household.pk}/form/",
        f"/enumeration/households/{household.pk}/form/#persons-1",
        "/enumeration/my-areas/",
        f"/enumeration/areas/{cast.area_a1.pk}/",
    ):
        phone.goto(live_server.url + path)
        phone.wait_for_load_state("networkidle")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide on a 360-px phone"
