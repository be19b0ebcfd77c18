"""Done when: in Chromium at phone size, an enumerator registers a household end to end — listing, the form,
a warning noted, the respondent's signature drawn on the screen, the enumerator's signature with the password —
a supervisor returns it with a comment, the registrar fixes and re-signs it, and the supervisor approves it."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Page, expect

from enumeration.identity import make_id_number
from enumeration.models import Household, HouseholdState, HouseholdTransition, ReviewComment
from enumeration.verification import verify_small_area
from tests.browser.conftest import log_in, screenshot
from tests.conftest import Cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSONS = [
    # name, relationship, ID number, ethnic group, education, literate (None: not asked)
    ("王伟", "0", make_id_number("511502", datetime.date(1980, 5, 12), 11), "汉族", "4", "1"),
    ("李芳", "1", make_id_number("511502", datetime.date(1982, 3, 8), 22), "汉", "5", "1"),
    ("王小明", "2", make_id_number("511502", datetime.date(2010, 9, 1), 33), "汉族", "3", None),
]


def wait_saved(page: Page) -> None:
    expect(page.locator("[data-save-status]")).to_contain_text("已保存", timeout=10_000)


def draw_signature(page: Page) -> None:
    canvas = page.locator("[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y = box["x"], box["y"]
    page.mouse.move(x + 30, y + 100)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + 30 + step * 10, y + 100 + (20 if step % 2 else -20), steps=2)
    page.mouse.up()


def fill_person(
    page: Page, name: str, relationship: str, id_number: str, ethnic: str, education: str, literate: str | None
) -> None:
    card = page.locator("[data-person]:visible")
    card.locator("[data-field=d1_name]").fill(name)
    card.locator("[data-field=d2_relationship]").select_option(relationship)
    card.locator("[data-field=d3_id_number]").fill(id_number)
    # The ID number fills D5 and D4 at once.
    expect(card.locator("fieldset[data-item=D3] [data-check]")).to_contain_text("已根据身份证号码填写")
    assert card.locator("[data-field=d5_birth_year]").input_value() == id_number[6:10]
    card.locator("[data-field=d6_ethnicity]").fill(ethnic)
    card.locator("[data-field=d7_residence]").select_option("1")
    card.locator("[data-field=d8_hukou_place]").select_option("1")
    card.locator("[data-field=d9_away_duration]").select_option("1")
    expect(card.locator("[data-field=d10_away_reason]")).to_be_hidden()
    card.locator("[data-field=d11_education]").select_option(education)
    if literate is None:
        expect(card.locator("[data-field=d12_literate]")).to_be_hidden()
    else:
        card.locator("[data-field=d12_literate]").select_option(literate)


def confirm_and_sign(page: Page, password: str) -> None:
    respondent = page.locator("[data-respondent-form]")
    expect(respondent.locator("input[name=name]")).to_have_value("王伟")
    draw_signature(page)
    respondent.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("已记录申报人确认")
    expect(page.locator(".checklist")).to_contain_text("✓ 申报人已确认此版本")
    page.fill("#sign_password", password)
    page.click("#sign button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("已签字并提交审核")


def test_register_return_fix_resign_approve(live_server, phone: Page, desktop: Page, cast: Cast, password: str) -> None:  # type: ignore[no-untyped-def]
    # --- the enumerator lists the household and registers it at the door -------------------------------------
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    assert phone.url.endswith("/enumeration/my-areas/")
    phone.click(f"a.stretch:has-text('{cast.area_a1.code}')")
    phone.fill("#id_head_name", "王伟")
    phone.fill("#id_expected_persons", "3")
    phone.select_option("#id_aware", "yes")
    phone.click("#add-household button[type=submit]")
    expect(phone.locator(".messages")).to_contain_text("已将户 001 加入户主姓名底册")
    phone.click("[data-household-no='1'] a.button.primary")
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()

    household_panel = phone.locator('[data-step="household"]')
    household_panel.locator("[data-field=h1_kind]").select_option("1")
    for field, value in (
        ("h2_present", "3"),
        ("h2_away", "0"),
        ("h3_births_male", "0"),
        ("h3_births_female", "0"),
        ("h4_deaths_male", "0"),
        ("h4_deaths_female", "0"),
    ):
        household_panel.locator(f"[data-field={field}]").fill(value)
    household_panel.locator("[data-field=h5_residence_type]").select_option("2")
    expect(household_panel.locator("[data-field=h6_floor_area]")).to_be_hidden()  # H5 2–5 skips H6/H7
    household_panel.locator("[data-field=h5_residence_type]").select_option("1")
    household_panel.locator("[data-field=h6_floor_area]").fill("96")
    household_panel.locator("[data-field=h7_rooms]").fill("16")  # a warning: more than 15 rooms
    wait_saved(phone)
    expect(phone.locator("[data-issues-list]")).to_contain_text("住房间数 16 超过15间")
    household_panel.locator("[data-next]").click()

    for index, person in enumerate(PERSONS):
        expect(phone.locator("[data-person-title]")).to_have_text(f"第{index + 1}人 / 共3人")
        fill_person(phone, *person)
        if index == len(PERSONS) - 1:
            wait_saved(phone)
            # Only the warning is left once everyone is registered; the child (10) is not asked D12.
            expect(phone.locator("[data-issues-count]")).to_contain_text("0处错误，1条警示")
            screenshot(phone, "phone-form")
        phone.locator('[data-step="persons"] [data-next]').click()
    # After the last person the form goes on to the read-back, saving first.
    expect(phone).to_have_url(f"{live_server.url}/enumeration/households/{Household.objects.get().pk}/summary/")
    household = Household.objects.get()
    assert household.persons.count() == 3 and household.state == HouseholdState.DRAFT
    assert list(household.persons.order_by("row_no").values_list("d6_ethnicity", flat=True)) == ["01", "01", "01"]

    # --- read-back: the warning needs a note, the respondent signs, the enumerator signs ----------------------
    expect(phone.locator("#errors")).to_contain_text("没有错误")
    phone.fill("textarea[name='note__ROOMS_HIGH']", "祖传老宅，确有16间，申报人已确认")
    phone.click("#warnings button[type=submit]")
    expect(phone.locator(".messages")).to_contain_text("说明已保存")
    expect(phone.locator(".checklist")).to_contain_text("✓ 每条警示都已填写说明")
    draw_signature(phone)
    screenshot(phone, "phone-summary")
    respondent = phone.locator("[data-respondent-form]")
    respondent.locator("button[type=submit]").click()
    expect(phone.locator(".messages")).to_contain_text("已记录申报人确认")
    phone.fill("#sign_password", password)
    phone.click("#sign button[type=submit]")
    expect(phone.locator(".messages")).to_contain_text("已签字并提交审核")
    household.refresh_from_db()
    assert household.state == HouseholdState.SIGNED and household.warning_notes["ROOMS_HIGH"].startswith("祖传老宅")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the listing is {width}px wide on a 360-px phone"

    # --- the supervisor returns it with a comment on H7 -----------------------------------------------------
    log_in(desktop, live_server.url, cast.supervisor_a.username, password)
    assert desktop.url.endswith("/enumeration/review/")
    expect(desktop.locator("table.queue tbody tr")).to_have_count(1)
    screenshot(desktop, "review-queue")
    desktop.click("table.queue tbody tr a >> nth=0")
    expect(desktop.locator("#versions")).to_contain_text("H7 本户现住房间数")
    desktop.select_option("select[name=item_1]", "H7")
    desktop.fill("input[name=text_1]", "请核实住房间数")
    desktop.click("[data-action=return]")
    expect(desktop.locator(".messages")).to_contain_text("已退回登记人")
    household.refresh_from_db()
    assert household.state == HouseholdState.RETURNED
    assert ReviewComment.objects.get().item == "H7"

    # --- the registrar sees it first on the start page, fixes H7 and signs again -----------------------------
    phone.goto(f"{live_server.url}/enumeration/my-areas/")
    returned = phone.locator(".returned-forms")
    expect(returned).to_contain_text("H7 本户现住房间数")
    expect(returned).to_contain_text("请核实住房间数")
    returned.locator("a.stretch").click()
    expect(phone.locator(".comments")).to_contain_text("请核实住房间数")
    expect(phone.locator('fieldset.has-comment[data-item="H7"]')).to_be_visible()
    phone.locator('[data-step="household"] [data-field=h7_rooms]').fill("5")
    wait_saved(phone)
    expect(phone.locator("[data-issues-count]")).to_contain_text("目前未发现问题")
    phone.locator(".form-foot a[data-goto-summary]").click()
    expect(phone.locator("#warnings")).to_contain_text("没有警示")
    confirm_and_sign(phone, password)
    household.refresh_from_db()
    assert household.state == HouseholdState.SIGNED and household.h7_rooms == 5

    # --- the supervisor approves -----------------------------------------------------------------------------
    desktop.goto(f"{live_server.url}/enumeration/households/{household.pk}/")
    expect(desktop.locator("#versions")).to_contain_text("H7 本户现住房间数")
    desktop.click("[data-action=approve]")
    expect(desktop.locator(".messages")).to_contain_text("已审核通过")
    household.refresh_from_db()
    assert household.state == HouseholdState.APPROVED
    trail = list(HouseholdTransition.objects.order_by("at", "pk").values_list("to_state", flat=True))
    assert trail == ["draft", "signed", "returned", "signed", "approved"]
    assert verify_small_area(cast.area_a1) == []
