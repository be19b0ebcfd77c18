"""Issue 21, item 9, in Chromium at 360 px: a draft opened again opens where the enumerator was (the step, and the
person on the persons step), online and after a reload with no signal, and not at step 1 or at the first error.

The household is the same in both tests: two persons, the enumerator fills step 1 and the first person, moves on to
person 2, types there, and leaves. Online, person 1 still lacks D11 (the head will say his schooling later): the
first error is person 1's, but the enumerator was at person 2 — the draft opens at person 2 and the checks still
name person 1's missing D11. With no signal, the page comes from the phone's copy (the service worker's page is
the one from before the edits): it opens at person 2 too, and the place reaches the server with the form."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from playwright.sync_api import Page, expect

from enumeration.identity import make_id_number
from enumeration.models import Household
from enumeration.services import household_list, household_return
from tests.browser.conftest import log_in
from tests.browser.pages import check_page
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEAD_ID = make_id_number("511502", datetime.date(1980, 5, 12), 11)  # odd sequence: male, born 1980-05


def listed(cast: Cast) -> Household:
    return household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=2)


def fill_step_one(page: Page) -> None:
    panel = page.locator('[data-step="household"]')
    panel.locator("[data-field=h1_kind]").select_option("1")
    for name, value in (
        ("h2_present", "2"),
        ("h2_away", "0"),
        ("h3_births_male", "0"),
        ("h3_births_female", "0"),
        ("h4_deaths_male", "0"),
        ("h4_deaths_female", "0"),
    ):
        panel.locator(f"[data-field={name}]").fill(value)
    panel.locator("[data-field=h5_residence_type]").select_option("2")  # a dormitory: no H6/H7
    panel.locator("[data-next]").click()
    expect(page.locator("[data-person-title]")).to_have_text("第1人 / 共2人")


def fill_head(page: Page, *, education: bool) -> None:
    card = page.locator("[data-person]:visible")
    card.locator("[data-field=d1_name]").fill("王伟")
    card.locator("[data-field=d2_relationship]").select_option("0")
    card.locator("[data-field=d3_id_number]").fill(HEAD_ID)
    expect(card.locator("[data-field=d5_birth_year]")).to_have_value("1980")
    card.locator("[data-field=d6_ethnicity]").fill("汉族")
    card.locator("[data-field=d7_residence]").select_option("1")
    card.locator("[data-field=d8_hukou_place]").select_option("1")
    card.locator("[data-field=d9_away_duration]").select_option("1")
    if education:
        card.locator("[data-field=d11_education]").select_option("4")
    card.locator("[data-field=d12_literate]").select_option("1")
    page.locator('[data-step="persons"] [data-next]').click()
    expect(page.locator("[data-person-title]")).to_have_text("第2人 / 共2人")
    page.locator("[data-person]:visible [data-field=d1_name]").fill("李芳")


def saved_at(household: Household, place: str) -> None:
    """The server holds the place (the save follows the move after a pause)."""
    for _ in range(100):
        household.refresh_from_db()
        if household.form_position == place:
            return
        time.sleep(0.1)
    raise AssertionError(f"the server's place is {household.form_position!r}, not {place!r}")


def at_person_two(page: Page) -> None:
    expect(page.locator("#household-form[data-ready]")).to_be_attached(timeout=15_000)
    expect(page.locator('[data-step="persons"]')).to_be_visible()
    expect(page.locator('[data-step="household"]')).to_be_hidden()
    expect(page.locator("[data-person-title]")).to_have_text("第2人 / 共2人")
    expect(page.locator("[data-person]:visible [data-field=d1_name]")).to_have_value("李芳")


def test_a_draft_reopens_at_the_person_the_enumerator_was_on(
    live_server, phone: Page, cast: Cast, password: str
) -> None:  # type: ignore[no-untyped-def]
    household = listed(cast)
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    phone.goto(f"{live_server.url}/enumeration/areas/{cast.area_a1.pk}/")
    phone.locator("[data-household-no='1'] a.button.primary").click()
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()
    fill_step_one(phone)
    fill_head(phone, education=False)
    for _ in range(100):
        if list(household.persons.order_by("row_no").values_list("d1_name", flat=True)) == ["王伟", "李芳"]:
            break
        time.sleep(0.1)
    expect(phone.locator("[data-offline-bar]")).to_have_attribute("data-unsent", "0", timeout=10_000)

    # Leave for the listing, and open the draft again from it (no place in the address).
    phone.goto(f"{live_server.url}/enumeration/areas/{cast.area_a1.pk}/")
    phone.locator("[data-household-no='1'] a.button.primary").click()
    expect(phone).to_have_url(f"{live_server.url}/enumeration/households/{household.pk}/form/#persons-2")
    at_person_two(phone)
    # Person 1, passed on the way, still lacks D11: the checks say so at once.
    expect(phone.locator("[data-issues-list]")).to_contain_text("第1人 · D11")
    check_page(phone, phone=True, where="a draft reopened at person 2")
    saved_at(household, "persons-2")

    # Back to step 1 and away: it opens at step 1 again (the place follows the enumerator, not the furthest step).
    phone.locator('[data-step-link="household"]').click()
    saved_at(household, "household")
    phone.goto(f"{live_server.url}/enumeration/households/{household.pk}/form/")
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()
    expect(phone.locator('[data-step="household"]')).to_be_visible()


def test_a_draft_typed_with_no_signal_reopens_there_after_an_offline_reload(
    live_server, phone: Page, cast: Cast, password: str
) -> None:  # type: ignore[no-untyped-def]
    household = listed(cast)
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    # One visit online keeps the listing and the forms it links to (issue 19).
    phone.goto(f"{live_server.url}/enumeration/areas/{cast.area_a1.pk}/")
    expect(phone.locator("html[data-offline-ready]")).to_be_attached(timeout=15_000)

    phone.context.set_offline(True)
    form_url = f"{live_server.url}/enumeration/households/{household.pk}/form/"
    phone.goto(form_url)
    expect(phone.locator("#household-form[data-ready]")).to_be_attached(timeout=15_000)
    fill_step_one(phone)
    fill_head(phone, education=True)
    # The phone's copy holds the place (IndexedDB answers after the page has moved on).
    phone.wait_for_function(
        f"""() => window.CensusOffline.get("form:{household.pk}").then(
              (r) => !!r && r.body.position === "persons-2" && r.body.persons[1].d1_name === "李芳")""",
        timeout=10_000,
    )
    # Away to the outbox and back, still with no signal: the kept page is the empty form of before.
    phone.goto(f"{live_server.url}/enumeration/outbox/")
    expect(phone.locator(f'[data-outbox-key="form:{household.pk}"]')).to_be_visible(timeout=15_000)
    phone.goto(form_url)
    at_person_two(phone)
    expect(phone.locator("[data-offline-bar]")).to_have_class("offline-bar offline")

    # With a signal again, the form and its place reach the server; opened anew, the draft is at person 2.
    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/enumeration/outbox/")
    expect(phone.locator("[data-outbox-empty]")).to_be_visible(timeout=15_000)
    household.refresh_from_db()
    assert household.form_position == "persons-2" and household.persons.count() == 2
    phone.goto(form_url)
    at_person_two(phone)

    # With no signal again, only a move (back to step 1), no answer changed: the kept page says person 2, the
    # phone's copy says step 1 — the form opens at step 1, and the move reaches the server later.
    phone.context.set_offline(True)
    phone.locator('[data-step-link="household"]').click()
    phone.wait_for_function(
        f"""() => window.CensusOffline.get("form:{household.pk}").then(
              (r) => !!r && r.body.position === "household")""",
        timeout=10_000,
    )
    phone.goto(f"{live_server.url}/enumeration/outbox/")
    phone.goto(form_url)
    expect(phone.locator("#household-form[data-ready]")).to_be_attached(timeout=15_000)
    expect(phone.locator('[data-step="household"]')).to_be_visible()
    expect(phone.locator('[data-step="persons"]')).to_be_hidden()
    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/enumeration/outbox/")
    expect(phone.locator("[data-outbox-empty]")).to_be_visible(timeout=15_000)
    saved_at(household, "household")


def test_a_returned_form_opens_at_the_reviewers_comment_not_at_the_stored_place(
    live_server, phone: Page, cast: Cast, password: str
) -> None:  # type: ignore[no-untyped-def]
    """The precedence: a reviewer's comment comes before the place the enumerator last was."""
    household = register(cast, password)
    household = household_return(household=household, actor=cast.supervisor_a, comments=[("D5@2", "出生年月再核实")])
    Household.objects.filter(pk=household.pk).update(form_position="household")
    log_in(phone, live_server.url, cast.enumerator_a1.username, password)
    phone.goto(f"{live_server.url}/enumeration/households/{household.pk}/form/")
    expect(phone.locator("#household-form[data-ready]")).to_be_attached()
    expect(phone.locator('[data-step="persons"]')).to_be_visible()
    expect(phone.locator("[data-person-title]")).to_have_text("第2人 / 共3人")
    expect(phone.locator('[data-person]:visible fieldset[data-item="D5"]')).to_have_class(re.compile("has-comment"))
