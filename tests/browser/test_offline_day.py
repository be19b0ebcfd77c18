"""Done when (a) of issue 19, in Chromium at 360 px: twenty households — two with a death row, one long form —
entered and signed at the door with no signal, across a closed tab, a browser restart (the same profile on disk)
and an expired login; when the signal returns, all twenty reach the server exactly once, signed, the signature
ledger verifies and the phone's outbox is empty.

The answers are typed programmatically through the page's own inputs (their input/change events, as a finger's
would fire them); the door-step signature is drawn with the mouse on the signature pad."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from playwright.sync_api import Browser, BrowserContext, Page, expect

from enumeration.models import Household, HouseholdState, RespondentConfirmation, Signature
from enumeration.services import household_list
from tests.browser.conftest import PHONE, log_in
from tests.browser.fixtures import ARGS, CHROMIUM
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.enumeration.test_api import _long_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOUSEHOLDS = 20
WITH_A_DEATH = (3, 11)  # the 4th and the 12th
LONG_FORM = 7  # the 8th

DEATH_ROW = {
    "name": "王大爷",
    "sex": 1,
    "birth_year": 1940,
    "birth_month": 3,
    "death_year": 2020,
    "death_month": 4,
    "ethnicity": "01",
    "education": 3,
    "marital": 4,
}

# Type a form through the page's own inputs: the household items, then the persons step (the page makes a card
# per person H2 counts), then the death register (a row per death H4 counts).
FILL = """async ([household, persons, deaths]) => {
  const set = (el, value) => {
    if (!el) { throw new Error('no input'); }
    el.value = value === null || value === undefined ? '' : String(value);
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  };
  const panel = document.querySelector('[data-step="household"]');
  for (const [name, value] of Object.entries(household)) {
    const input = panel.querySelector(`[data-field="${name}"]`);
    if (input) { set(input, value); }
  }
  document.querySelector('[data-step-link="persons"]').click();
  const cards = document.querySelectorAll('[data-person]');
  persons.forEach((person, index) => {
    for (const [name, value] of Object.entries(person)) {
      const input = cards[index].querySelector(`[data-field="${name}"]`);
      if (input && name !== 'row_no') { set(input, value); }
    }
  });
  if (deaths.length) {
    document.querySelector('[data-step-link="deaths"]').click();
    const rows = document.querySelectorAll('[data-death]');
    deaths.forEach((death, index) => {
      for (const [name, value] of Object.entries(death)) {
        const input = rows[index].querySelector(`[data-field="${name}"]`);
        if (input) { set(input, value); }
      }
    });
  }
  document.querySelector('[data-step-link="household"]').click();
  return document.querySelectorAll('[data-person]').length;
}"""


# The paths of the pages the service worker keeps for no signal (its Cache Storage, read from the page).
KEPT_PAGES = """async () => {
  const cache = await caches.open('census-pages-v1');
  return (await cache.keys()).map((request) => new URL(request.url).pathname);
}"""


def form_of(index: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    household, persons = family_form()
    deaths: list[dict[str, Any]] = []
    if index in WITH_A_DEATH:
        household["h4_deaths_male"] = 1
        deaths = [copy.deepcopy(DEATH_ROW)]
    if index == LONG_FORM:
        _long_form(household, persons)
    return household, persons, deaths


def phone_profile(browser: Browser, profile: Path) -> BrowserContext:
    """A phone's browser with its profile on disk: closing it and starting it again keeps what it stored."""
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, viewport=PHONE, locale="zh-CN"
    )
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return tmp_path / "phone-profile"


def sign_at_the_door(page: Page, live_server_url: str, household: Household, index: int) -> None:
    page.goto(f"{live_server_url}/enumeration/households/{household.pk}/form/")
    expect(page.locator("#household-form[data-ready]")).to_be_attached(timeout=20_000)
    data, persons, deaths = form_of(index)
    assert page.evaluate(FILL, [data, persons, deaths]) == len(persons)
    doorstep = page.locator("[data-doorstep]")
    doorstep.locator("[data-doorstep-relationship]").select_option("0")
    pad = doorstep.locator("[data-doorstep-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 100, steps=8)
    page.mouse.move(box["x"] + 220, box["y"] + 50, steps=8)
    page.mouse.up()
    doorstep.locator("[data-doorstep-confirm]").check()
    doorstep.locator("[data-doorstep-sign]").click()
    expect(doorstep.locator("[data-doorstep-done]")).to_be_visible()


def test_twenty_households_signed_offline_reach_the_server_once_each(  # type: ignore[no-untyped-def]
    live_server, browser: Browser, profile: Path, cast: Cast, password: str
) -> None:
    households = [
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
        for _ in range(HOUSEHOLDS)
    ]
    Household.objects.filter(pk=households[LONG_FORM].pk).update(in_long_form_sample=True)

    context = phone_profile(browser, profile)
    page = context.new_page()
    log_in(page, live_server.url, cast.enumerator_a1.username, password)
    # One online visit to the small area's listing keeps it and the forms it links to.
    page.goto(f"{live_server.url}/enumeration/areas/{cast.area_a1.pk}/")
    expect(page.locator("html[data-offline-ready]")).to_be_attached(timeout=60_000)
    # Read from the phone's cache itself, not from the page's report: every form is kept before the signal goes.
    forms = {f"/enumeration/households/{household.pk}/form/" for household in households}
    assert forms <= set(page.evaluate(KEPT_PAGES)), sorted(forms - set(page.evaluate(KEPT_PAGES)))
    context.set_offline(True)

    for index, household in enumerate(households):
        if index == 7:
            page.close()  # the phone kills the tab
            page = context.new_page()
        if index == 14:
            context.close()  # the browser is restarted: the same profile, no signal
            context = phone_profile(browser, profile)
            context.set_offline(True)
            page = context.new_page()
        sign_at_the_door(page, live_server.url, household, index)
        expect(page.locator("[data-offline-bar]")).to_have_attribute("data-unsent", str(index + 1))

    assert not Signature.objects.filter(household__in=households).exists()
    Session.objects.all().delete()  # and the login ends while the phone is out of reach

    # The signal returns on the last form: the outbox asks for the login, then for the password that signs.
    context.set_offline(False)
    login = page.locator("[data-login-dialog]")
    expect(login).to_be_visible()
    login.locator("[name=password]").fill(password)
    login.locator("button[type=submit]").click()
    signing = page.locator("[data-password-dialog]")
    expect(signing).to_be_visible()
    signing.locator("[name=password]").fill(password)
    signing.locator("button[type=submit]").click()
    expect(page.locator("[data-offline-bar]")).to_have_attribute("data-unsent", "0", timeout=120_000)
    assert page.evaluate("CensusOffline.all().then((records) => records.length)") == 0

    for household in households:
        household.refresh_from_db()
        assert household.state == HouseholdState.SIGNED, (household.pk, household.state)
    assert Signature.objects.filter(household__in=households).count() == HOUSEHOLDS
    assert RespondentConfirmation.objects.filter(household__in=households).count() == HOUSEHOLDS
    assert Household.objects.filter(small_area=cast.area_a1).count() == HOUSEHOLDS
    with_deaths = [h for i, h in enumerate(households) if i in WITH_A_DEATH]
    assert all(h.deaths.count() == 1 for h in with_deaths)
    assert households[LONG_FORM].h8_storeys == 2
    out = io.StringIO()
    call_command("verify_signatures", stdout=out)  # exits 1 on any mismatch
    assert "all signatures verify" in out.getvalue()
    context.close()
