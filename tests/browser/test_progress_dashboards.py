"""The progress dashboards in Chromium: a township office and the district office see the numbers of their
scope — checked against counts made here from the households themselves — the charts draw, a table sorts
through htmx, and the README gets its screenshots."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import Count, Q
from playwright.sync_api import Page, expect

from census.models import StaffMember, Township, Village
from enumeration.models import Household, HouseholdState
from supervision.progress.services import progress_refresh
from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
SIGNED_OR_FURTHER = (HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED)


@pytest.fixture
def district() -> None:
    """A synthetic district (the demo's generator) with the organisation part's sample data, aggregated."""
    call_command("seed_district", persons=12000, seed=11, stdout=io.StringIO())
    for command in getattr(settings, "CENSUS_DEMO_EXTRA_COMMANDS", []):
        call_command(command, if_empty=True, stdout=io.StringIO())
    progress_refresh()


def counts(**filters: object) -> dict[str, int]:
    """Independent of the aggregates the page reads: straight from the households."""
    return Household.objects.filter(**filters).aggregate(
        households=Count("pk"),
        registered=Count("pk", filter=~Q(state=HouseholdState.LISTED)),
        signed=Count("pk", filter=Q(state__in=SIGNED_OR_FURTHER)),
        accepted=Count("pk", filter=Q(state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED))),
    )


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def kpi(page: Page, name: str) -> int:
    return number(page.locator(f'[data-kpi="{name}"] .value').inner_text())


def cell(page: Page, table: str, key: str, column: str) -> str:
    return page.locator(f'table[data-table="{table}"] tr[data-key="{key}"] td[data-col="{column}"]').inner_text()


def charts_drawn(page: Page) -> None:
    for chart in ("#chart-daily", "#chart-states"):
        expect(page.locator(f'{chart}[data-rendered="true"] canvas').first).to_be_attached()


def test_a_township_office_sees_its_township(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    desktop.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    office = StaffMember.objects.get(username="township")
    township = Township.objects.get(code=office.township_id)
    log_in(desktop, live_server.url, "township", DEMO_PASSWORD)
    # The township office starts on its dashboard.
    expect(desktop.locator("h1")).to_contain_text(township.name)
    expected = counts(township=township)
    assert kpi(desktop, "households") == expected["households"]
    assert kpi(desktop, "registered") == expected["registered"]
    assert kpi(desktop, "accepted") == expected["accepted"]
    for village in Village.objects.filter(township=township):
        by_village = counts(village=village)
        assert number(cell(desktop, "villages", village.code, "households")) == by_village["households"]
        assert (
            number(cell(desktop, "villages", village.code, "hh_accepted"))
            == Household.objects.filter(village=village, state=HouseholdState.ACCEPTED).count()
        )
    # Nothing of another township.
    other = Village.objects.exclude(township=township).first()
    assert other is not None
    expect(desktop.locator(f'tr[data-key="{other.code}"]')).to_have_count(0)
    charts_drawn(desktop)
    expect(desktop.locator("#score-formula code")).to_contain_text("50 × R + 30 × A + 20 × Q")

    # Sorting the small areas by households, through htmx: the first row is the fullest small area.
    header = desktop.locator("#table-small_areas th a", has_text="摸底户数")
    header.click()
    expect(header).to_contain_text("▲")  # the table came back sorted ascending
    header.click()
    expect(header).to_contain_text("▼")
    fullest = (
        Household.objects.filter(township=township)
        .values("small_area__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "small_area__code")
        .first()
    )
    assert fullest is not None
    first_row = desktop.locator('#table-small_areas table[data-table="small_areas"] tbody tr').first
    expect(first_row.locator('td[data-col="households"]')).to_have_text(str(fullest["n"]))
    assert "/supervision/progress/tables/" not in desktop.url, "htmx swapped the table in place"
    assert not errors, errors

    desktop.goto(f"{live_server.url}/supervision/progress/")
    charts_drawn(desktop)
    screenshot(desktop, "dashboard-township")


def test_the_district_office_sees_every_township(live_server, desktop: Page, district: None) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    desktop.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    expect(desktop.locator("table[data-table=townships]")).to_be_visible()
    everything = counts()
    assert kpi(desktop, "households") == everything["households"]
    assert kpi(desktop, "registered") == everything["registered"]
    for township in Township.objects.all():
        expected = counts(township=township)
        assert number(cell(desktop, "townships", township.code, "households")) == expected["households"]
        assert number(cell(desktop, "townships", township.code, "registered")) == expected["registered"]
        completion = round(100 * expected["signed"] / expected["households"], 1)
        assert float(cell(desktop, "townships", township.code, "completion")) == pytest.approx(completion, abs=0.05)
    ranks = sorted(
        number(desktop.locator(f'tr[data-key="{t.code}"] td[data-col="rank"]').inner_text())
        for t in Township.objects.all()
    )
    assert ranks[0] == 1
    charts_drawn(desktop)
    screenshot(desktop, "dashboard-district")

    # From a township's row to its dashboard.
    township = Township.objects.order_by("code").last()
    assert township is not None
    desktop.locator(f'tr[data-key="{township.code}"] td[data-col="name"] a').click()
    expect(desktop.locator("h1")).to_contain_text(township.name)
    assert kpi(desktop, "households") == counts(township=township)["households"]
    assert not errors, errors
